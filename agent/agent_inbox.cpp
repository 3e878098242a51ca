#include "agent/agent_inbox.hpp"

namespace dockmesh::agent {

inbox_sender::inbox_sender(zmq::context_t& ctx, const std::string& endpoint)
    : push_(ctx, zmq::socket_type::push) {
  push_.set(zmq::sockopt::linger, 0);
  push_.set(zmq::sockopt::sndhwm, 100000);
  push_.connect(endpoint);
}

bool inbox_sender::send(inbox_kind kind, std::string_view payload) {
  char k = static_cast<char>(kind);
  try {
    if (!push_.send(zmq::buffer(&k, 1), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
      return false;
    return push_.send(zmq::buffer(payload), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

std::optional<inbox_message> read_inbox(zmq::socket_t& pull) {
  for (;;) {
    zmq::message_t kind;
    if (!pull.recv(kind, zmq::recv_flags::dontwait)) return std::nullopt;
    zmq::message_t payload;
    bool two = kind.more() && pull.recv(payload, zmq::recv_flags::dontwait) && !payload.more();
    while (payload.more()) {  // drain anything unexpected so framing stays aligned
      if (!pull.recv(payload, zmq::recv_flags::dontwait)) break;
    }
    if (!two || kind.size() != 1) continue;
    return inbox_message{static_cast<inbox_kind>(*kind.data<char>()), payload.to_string()};
  }
}

}  // namespace dockmesh::agent
