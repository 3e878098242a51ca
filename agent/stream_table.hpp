// stream_table: the agent's open streams (docs/streams.md), owned by the bus thread. open() starts
// one thread per stream (bounded by max_streams; more are refused with 503), which runs the
// opener's handler with its own docker_client and a stream_channel. The bus thread routes the
// reader's stream-credit and stream-cancel here, accepted only from the bus identity (the
// broker's stamp) that opened the stream; expire() cancels streams whose reader has not renewed
// the lease; closed() joins a finished thread. Nothing here blocks but the destructor, which
// cancels every stream and joins its thread (their Docker calls abort within about a second).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <zmq.hpp>

#include "agent/action_context.hpp"
#include "agent/docker_client.hpp"
#include "agent/stream_gate.hpp"
#include "common/envelope.hpp"

namespace dockmesh::agent {

struct stream_table_options {
  std::string inbox_endpoint;
  docker_client_options docker;
  agent_identity self;
  std::size_t max_streams = 64;
  // A reader renews every 3 s (stream-credit); three missed renewals end the stream.
  std::chrono::milliseconds lease{10000};
};

class stream_table {
 public:
  using clock = std::chrono::steady_clock;

  stream_table(zmq::context_t& ctx, stream_table_options options);
  ~stream_table();
  stream_table(const stream_table&) = delete;
  stream_table& operator=(const stream_table&) = delete;

  // False when the table is full. `opener` is the request's sender stamp.
  bool open(const common::envelope& request, std::string opener, clock::time_point now);
  // The reader's credit (renews the lease) and cancel; false if the stream is unknown or the
  // sender is not its opener.
  bool credit(std::string_view stream, std::int64_t bytes, std::string_view sender,
              clock::time_point now);
  bool cancel(std::string_view stream, std::string_view sender);
  // An exec stream's input and terminal size, from its opener only.
  bool input(std::string_view stream, std::string_view sender, std::string_view bytes, bool eof);
  bool resize(std::string_view stream, std::string_view sender, int cols, int rows);
  void expire(clock::time_point now);
  void closed(const std::string& stream);  // its thread said it has finished: join, forget
  void cancel_all(const std::string& reason);

  // Where the stream's messages go; nullptr if the stream is unknown.
  const std::string* reply_topic(const std::string& stream) const;
  std::size_t size() const { return streams_.size(); }

 private:
  struct entry {
    std::string reply_to;
    std::string opener;
    std::shared_ptr<stream_gate> gate;
    clock::time_point renewed;
    std::thread thread;
  };
  void run(common::envelope request, std::shared_ptr<stream_gate> gate);
  stream_gate* opened_by(std::string_view stream, std::string_view sender);

  zmq::context_t& ctx_;
  stream_table_options options_;
  std::unordered_map<std::string, entry> streams_;
};

}  // namespace dockmesh::agent
