// agent_inbox: how the worker pool, the events follower and stream threads hand data to the bus
// thread (stopping it is the bus thread's actor's business, not a message). The bus
// thread binds one PULL socket on an inproc endpoint; every other thread creates its own PUSH
// socket (inbox_sender) in its own thread and sends [kind][payload] messages. Only the bus thread
// touches the PULL side, only the creating thread its PUSH side.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <zmq.hpp>

namespace dockmesh::agent {

enum class inbox_kind : char {
  reply = 'r',         // payload: encoded reply envelope (re = request id, to request's reply_to)
  event = 'e',         // payload: encoded event envelope, published on evt/host/<fqdn>/
  facts = 'f',         // payload: JSON host_facts
  facts_failed = 'F',  // payload: error message
  inventory = 'i',     // payload: JSON inventory
  inventory_failed = 'I',  // payload: error message
  docker_up = 'u',         // payload: empty
  docker_down = 'd',       // payload: error message
  stream_frame = 'm',      // payload: encoded stream-data/stream-end, to the stream's reader
  stream_closed = 'c',     // payload: stream id; its thread has finished
};

struct inbox_message {
  inbox_kind kind;
  std::string payload;
};

class inbox_sender {
 public:
  inbox_sender(zmq::context_t& ctx, const std::string& endpoint);
  // Never blocks: if the bus thread is gone or flooded, the message is dropped (false).
  bool send(inbox_kind kind, std::string_view payload = {});

 private:
  zmq::socket_t push_;
};

// One message if one is waiting (non-blocking); malformed ones are skipped.
std::optional<inbox_message> read_inbox(zmq::socket_t& pull);

}  // namespace dockmesh::agent
