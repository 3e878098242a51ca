// bus_actor: the bridge's single bus thread. It alone creates and uses the ZeroMQ sockets (a
// common::bus_client with the bridge's key, and a common::control_client in fan_out mode for
// directory queries: each goes to every broker at once and completes on the first answer, so a
// broker that is down or stopped costs nothing, and the thread never waits on one; a write, by
// the catalogue's changes_state, goes to one broker only).
// The thread is a common::actor (synchronous start and stop). Other threads (Beast handlers) hand
// it commands through a mutex-guarded queue and wake it through the actor's wakeup, which it
// polls next to the SUB socket and the control sockets. Completions and
// events are delivered by calling the given functions ON THE BUS THREAD: they must not block,
// only post to the caller's strand. Replies are matched by request id; requests are re-published
// with the same id (attempt + 1) until answered or timed out.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/actor.hpp"
#include "common/bus_client.hpp"
#include "common/envelope.hpp"
#include "common/result.hpp"
#include "common/stream_reader.hpp"

namespace dockmesh::bridge {

struct bus_actor_settings {
  std::chrono::milliseconds retry_every{1000};
  std::chrono::milliseconds ready_timeout{3000};  // waiting for the bus at start (not fatal)
  std::chrono::milliseconds hosts_cache{200};     // reuse a `hosts` answer this long; 0 = never
};

struct bus_actor_counters {
  std::uint64_t requests = 0;
  std::uint64_t replies = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t forged_replies = 0;  // stamped by another identity than the one addressed
  std::uint64_t control_calls = 0;
  std::uint64_t control_cache_hits = 0;
  std::uint64_t events = 0;
};

class bus_actor {
 public:
  using reply_handler = std::function<void(common::result<common::envelope>)>;
  using event_handler = std::function<void(const common::bus_message&)>;
  // A stream's pieces (stream-data, and stream-end last), checked and de-duplicated.
  using stream_handler = std::function<void(const common::bus_message&)>;

  bus_actor(common::bus_client_options options, event_handler on_event,
            bus_actor_settings settings = {});
  ~bus_actor();
  bus_actor(const bus_actor&) = delete;
  bus_actor& operator=(const bus_actor&) = delete;

  // Starts the thread and returns once its sockets exist; throws what their creation threw.
  void start();
  // Fails every pending request with errc::unavailable, closes the sockets, joins. Idempotent.
  void stop();

  // Publishes `env` on `topic` and calls `done` with the reply (any code), or errc::timeout.
  // id, from, reply_to and deadline are filled in here. Any thread.
  void request(std::string topic, common::envelope env, std::chrono::milliseconds timeout,
               reply_handler done);
  // A control query to every broker's ROUTER endpoint; `done` gets the first answer (any code),
  // or errc::timeout if none came in `timeout`. Any thread.
  void control(std::string action, nlohmann::json body, std::chrono::milliseconds timeout,
               reply_handler done);

  // A stream opener (docs/streams.md): `opened` gets the opening reply like request(); on 200
  // the stream's pieces go to `pieces` until stream-end or close_stream(). Credit is granted
  // back only for what the owner reports consumed; the lease is renewed every 3 s. Any thread.
  void open_stream(std::string topic, common::envelope env, std::chrono::milliseconds timeout,
                   reply_handler opened, stream_handler pieces);
  // The owner wrote `bytes` of the stream's data out (WebSocket write completed). Any thread.
  void stream_consumed(std::string stream, std::size_t bytes);
  // Cancels the stream at its agent and forgets it. Any thread.
  void close_stream(std::string stream);
  // The reader's side of an exec stream: stream-input / stream-resize with `body` (the stream id
  // is added) to the stream's agent. Ignored for a stream this actor does not hold. Any thread.
  void stream_send(std::string stream, std::string action, nlohmann::json body);
  const std::string& client_id() const { return options_.client_id; }
  bus_actor_counters counters() const;

 private:
  struct request_cmd {
    std::string topic;
    common::envelope env;
    std::chrono::milliseconds timeout;
    reply_handler done;
    stream_handler pieces = {};  // set for stream openers
  };
  struct control_cmd {
    std::string action;
    nlohmann::json body;
    std::chrono::milliseconds timeout;
    reply_handler done;
  };
  struct stream_cmd {  // consumed (bytes), close, or send (action + body)
    enum class op { consumed, close, send } what;
    std::string stream;
    std::size_t bytes = 0;
    reply_handler done;  // unused; keeps post()'s refusal path uniform
    std::string action = {};
    nlohmann::json body = {};
  };
  using command = std::variant<request_cmd, control_cmd, stream_cmd>;
  struct pending {
    std::string topic;
    common::envelope env;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::steady_clock::time_point next_retry;
    reply_handler done;
    stream_handler pieces;  // set for stream openers
  };
  class loop;  // the thread's state: sockets and pending requests (bus_actor.cpp)

  void post(command c);
  template <class F>
  void count(F f) {
    std::lock_guard lock(counters_mutex_);
    f(counters_);
  }

  common::bus_client_options options_;
  event_handler on_event_;
  bus_actor_settings settings_;
  std::mutex mutex_;
  std::deque<command> queue_;  // read with the stop flag under mutex_: a command is run or refused
  mutable std::mutex counters_mutex_;
  bus_actor_counters counters_;
  common::actor actor_{"bridge bus"};  // last: stopped (joined) before the rest goes
};

}  // namespace dockmesh::bridge
