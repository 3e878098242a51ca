// bus_loop: the body of the agent's bus thread (a common::actor, owned by agent). Constructed on
// that thread, it owns the bus_client and the inbox PULL socket; run() polls both and the actor's
// wakeup until the actor is told to stop (checked after every poll, and between the short waits
// for a broker and for the host's facts at start-up, so a stop then is prompt too), keeping
// the heartbeat rhythm, turning requests into pool jobs and pool results into replies, events and
// announcements. It never calls Docker itself, so nothing here blocks longer than a poll.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <zmq.hpp>

#include "agent/action_pool.hpp"
#include "agent/agent.hpp"
#include "agent/agent_inbox.hpp"
#include "agent/host_state.hpp"
#include "agent/request_cache.hpp"
#include "agent/stream_table.hpp"
#include "common/actor.hpp"
#include "common/bus_client.hpp"

namespace dockmesh::agent {

class bus_loop {
 public:
  bus_loop(zmq::context_t& ctx, const agent_options& options, const std::string& inbox_endpoint,
           action_pool& pool, common::actor& thread);
  void run();  // until thread.stop_requested(); sends `unregister` on the way out (if registered)

 private:
  using clock = std::chrono::steady_clock;

  void announce(std::string_view action, nlohmann::json body);
  void announce_host(std::string_view action);
  void announce_inventory();
  void on_request(common::bus_message& m);
  bool on_stream_control(const common::bus_message& m);  // stream-credit, stream-cancel
  bool start_stream(const common::bus_message& m);       // false: answered with an error
  void on_stream_frame(const std::string& payload);
  void on_inbox(const inbox_message& m);
  void read_inbox_all();
  void on_reply(const std::string& payload);
  void on_event(const std::string& payload);
  void on_inventory(const std::string& payload);
  void answer(const common::envelope& request, int code, const std::string& message);
  void publish_reply(const std::string& topic, const common::envelope& reply);
  void schedule_inventory();
  void schedule_facts();
  void tick(clock::time_point now);
  bool wait_for_bus();
  bool wait_for_facts();

  const agent_options& options_;
  action_pool& pool_;
  common::actor& thread_;
  common::bus_client bus_;
  zmq::socket_t inbox_;
  stream_table streams_;  // after inbox_: its threads still reach the inbox while it closes
  std::string evt_topic_;
  announcement_state state_;
  request_cache cache_;
  std::int64_t highest_epoch_ = 0;                         // highest scheduler epoch seen (fencing)
  std::unordered_map<std::string, std::string> reply_to_;  // running request id -> reply topic
  bool inventory_pending_ = false, inventory_dirty_ = false, facts_pending_ = false;
  std::uint64_t inventory_gen_ = 0;  // newest inventory read applied (action_pool's order)
  bool trim_due_ = false;            // work was done since the last malloc_trim
  bool have_facts_ = false;          // /info was read at least once
  bool docker_known_ = false;        // the events follower has said whether dockerd is up
  std::string published_digest_;
  clock::time_point next_heartbeat_, next_refresh_;
  // Container events are coalesced before the inventory is re-read: a burst (a create is two
  // events, `instances: N` is 2N) costs one container list instead of one per event, and the list
  // does not compete in dockerd with the calls that caused the events.
  void defer_inventory(clock::time_point now);
  std::optional<clock::time_point> inventory_due_, inventory_first_;
  static constexpr std::chrono::milliseconds inventory_quiet{250}, inventory_max_delay{1000};
};

}  // namespace dockmesh::agent
