#include "common/control_client.hpp"

namespace dockmesh::common {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

control_client::control_client(zmq::context_t& ctx, const bus_client_options& options)
    : options_(options), ctx_(ctx) {
  for (std::size_t i = 0; i < options_.brokers.size(); ++i) {
    sockets_.emplace_back();
    reconnect(i);
  }
}

// A fresh socket per broker after a timeout, so a late answer to an abandoned call can never be
// read as the answer to the next one.
void control_client::reconnect(std::size_t i) {
  auto s = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  s->set(zmq::sockopt::curve_serverkey, options_.broker_public_key);
  s->set(zmq::sockopt::curve_publickey, options_.keys.public_key);
  s->set(zmq::sockopt::curve_secretkey, options_.keys.secret_key);
  s->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.max_message_bytes));
  s->set(zmq::sockopt::linger, 0);
  s->connect(options_.brokers[i].router_endpoint());
  sockets_[i] = std::move(s);
}

result<envelope> control_client::call(const std::string& action, nlohmann::json body,
                                      milliseconds timeout) {
  envelope req;
  req.id = new_message_id();
  req.action = action;
  req.from = options_.client_id;
  req.deadline = now_ms() + timeout.count();
  req.body = std::move(body);
  std::string bytes = encode(req);
  auto per_broker = timeout / static_cast<long>(std::max<std::size_t>(sockets_.size(), 1));
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    auto& s = *sockets_[i];
    s.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    s.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    auto deadline = clock::now() + per_broker;
    while (clock::now() < deadline) {
      zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::duration_cast<milliseconds>(deadline - clock::now()));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> frames;
      do {
        frames.emplace_back();
        if (!s.recv(frames.back(), zmq::recv_flags::dontwait)) break;
      } while (frames.back().more());
      if (frames.size() != 2 || frames[0].size() != 0)
        return make_error(errc::malformed, "broker answered with an unexpected frame layout");
      auto reply = decode(frames[1].to_string_view());
      if (!reply) return reply.err();
      if (reply->re == req.id) return std::move(*reply);
    }
    reconnect(i);
  }
  return make_error(errc::timeout, "no broker answered '" + action + "' within " +
                                       std::to_string(timeout.count()) + " ms");
}

}  // namespace dockmesh::common
