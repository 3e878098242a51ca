// stream_channel: what a stream handler (follow-logs, follow-stats) writes to. open() answers the
// opening request (200 and the stream id) once the handler has checked the container; send()
// takes credit from the stream's gate, then hands one stream-data message to the bus thread
// through the inbox; finish() sends stream-end, or, when the stream never opened, the handler's
// error as the request's reply. Owned by the stream's thread; it never touches ZeroMQ's bus
// sockets (only its own inbox PUSH) and blocks only while the reader's credit is used up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/agent_inbox.hpp"
#include "agent/stream_gate.hpp"
#include "common/envelope.hpp"

namespace dockmesh::agent {

struct action_reply;

class stream_channel {
 public:
  stream_channel(const common::envelope& request, std::string fqdn,
                 std::shared_ptr<stream_gate> gate, inbox_sender& inbox);

  const std::string& id() const { return request_.id; }
  stream_gate& gate() { return *gate_; }
  bool is_open() const { return open_; }

  // The opening reply (code 200, `body` + stream and host). False if the bus thread is gone.
  bool open(nlohmann::json body);
  // One stream-data message: `body` gets `stream` and `seq`. `cost` is charged against the
  // reader's credit (at least common::min_stream_charge). False once cancelled.
  bool send(nlohmann::json body, std::size_t cost);
  // Text in pieces of at most max_stream_piece bytes (cut after a newline when one is near the
  // end of a piece), each a stream-data {channel, data}. False once cancelled.
  bool send_text(std::string_view channel, std::string_view text);
  // The Docker daemon this stream's thread talks to (exec hijacks a connection of its own).
  void set_docker(std::string socket_path, const std::string* api_version) {
    docker_socket_ = std::move(socket_path);
    api_version_ = api_version;
  }
  const std::string& docker_socket() const { return docker_socket_; }
  std::string api_version() const { return api_version_ ? *api_version_ : std::string("1.41"); }
  // The handler's result: stream-end after open() (with the result's body fields, e.g. an exec's
  // exit_code), else the error reply. Then stream-closed.
  void finish(const action_reply& result);

 private:
  bool deliver(inbox_kind kind, const std::string& payload);

  common::envelope request_;
  std::string fqdn_;
  std::shared_ptr<stream_gate> gate_;
  inbox_sender& inbox_;
  bool open_ = false;
  std::int64_t seq_ = 0;
  std::string docker_socket_;
  const std::string* api_version_ = nullptr;
};

}  // namespace dockmesh::agent
