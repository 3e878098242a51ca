// hub_sockets.cpp: the hub's bus sockets: making them (CURVE server options), binding them at
// start and re-binding them after a key is cut off (broker/hub.hpp), and the peer link.
#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <thread>

#include "broker/hub.hpp"
#include "common/log.hpp"

namespace dockmesh::broker {
namespace {

using steady = std::chrono::steady_clock;

constexpr int inbound_hwm = 1000;  // messages queued in the broker per inbound connection

// Binds `s` to `endpoint`: false while the address is in use, throws on any other error.
bool try_bind(zmq::socket_t& s, const std::string& endpoint) {
  try {
    s.bind(endpoint);
    return true;
  } catch (const zmq::error_t& e) {
    if (e.num() != EADDRINUSE)
      throw std::runtime_error("cannot bind " + endpoint + ": " + e.what());
    return false;
  }
}

}  // namespace

zmq::socket_t hub::make_server_socket(zmq::socket_type type, const char* domain) {
  zmq::socket_t s(ctx_, type);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::curve_server, true);
  s.set(zmq::sockopt::curve_secretkey, server_keys_.secret_key);
  s.set(zmq::sockopt::zap_domain, domain);
  s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(settings_.max_message_bytes));
  s.set(zmq::sockopt::sndhwm, settings_.high_water_mark);
  s.set(zmq::sockopt::rcvhwm, settings_.high_water_mark);
  // libzmq listens with a backlog of 100; thousands of agents (re)connecting at once overflow
  // it and back off for seconds (bench/README.md, scale at 5,000).
  s.set(zmq::sockopt::backlog, 4096);
  return s;
}

bool hub::bind_bus_sockets() {
  if (!xsub_bound_) xsub_bound_ = try_bind(xsub_, settings_.xsub_endpoint);
  if (!xpub_bound_) xpub_bound_ = try_bind(xpub_, settings_.xpub_endpoint);
  bool bound = xsub_bound_ && xpub_bound_;
  if (!bound && !bind_warned_ && steady::now() - binds_since_ > bind_patience) {
    bind_warned_ = true;
    DM_LOG(error) << "bus endpoints still in use " << bind_patience.count()
                  << " ms after a re-bind (" << settings_.xsub_endpoint << ", "
                  << settings_.xpub_endpoint << "): retrying every " << bind_retry.count()
                  << " ms; clients cannot reconnect until then";
  }
  return bound;
}

// At start only (the loop never waits): a port still held by a broker that has just exited is
// retried for bind_patience, then it is an error.
void hub::wait_for_bus_binds() {
  while (!bind_bus_sockets()) {
    if (steady::now() - binds_since_ > bind_patience)
      throw std::runtime_error("cannot bind " + settings_.xsub_endpoint + " and " +
                               settings_.xpub_endpoint + ": address in use");
    std::this_thread::sleep_for(bind_retry);
  }
}

void hub::make_bus_sockets() {
  xsub_monitor_.reset();  // every connection of the old sockets goes with them
  xpub_monitor_.reset();
  if (xsub_) xsub_.close();
  if (xpub_) xpub_.close();
  xsub_ = make_server_socket(zmq::socket_type::xsub, zap_domain_bus);
  // Inbound, each connection queues at most inbound_hwm messages in the broker: a hub that falls
  // behind (short of CPU) leaves the rest in the kernel's socket buffer and the publisher's
  // queue, so the broker's memory stays bounded by its connections (an agent sends about one
  // message a second; 10,000 agents with --high-water-mark's 100,000 each could queue gigabytes).
  xsub_.set(zmq::sockopt::rcvhwm, std::min(settings_.high_water_mark, inbound_hwm));
  xpub_ = make_server_socket(zmq::socket_type::xpub, zap_domain_bus);
  xsub_monitor_ = std::make_unique<bus_monitor>(ctx_, xsub_, "xsub", metrics_);
  xpub_monitor_ = std::make_unique<bus_monitor>(ctx_, xpub_, "xpub", metrics_);
  // Subscriptions come to the hub; only those topic_acl allows are applied (drain_subscriptions).
  xpub_.set(zmq::sockopt::xpub_manual, 1);
  // Subscribe to everything: the broker needs ann/ and req/any/, and forwards the rest. XSUB keeps
  // its subscriptions and sends them on every connection, so this may come before the bind.
  xsub_.send(zmq::buffer("\x01", 1), zmq::send_flags::none);
  xsub_bound_ = xpub_bound_ = bind_warned_ = false;
  binds_since_ = steady::now();
  bind_bus_sockets();
}

void hub::connect_peers() {
  if (settings_.peers.empty()) return;
  peers_ = zmq::socket_t(ctx_, zmq::socket_type::sub);
  peers_.set(zmq::sockopt::linger, 0);
  // Peers share the mesh's server key pair; they admit it as broker:broker.
  peers_.set(zmq::sockopt::curve_serverkey, server_keys_.public_key);
  peers_.set(zmq::sockopt::curve_publickey, server_keys_.public_key);
  peers_.set(zmq::sockopt::curve_secretkey, server_keys_.secret_key);
  peers_.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(settings_.max_message_bytes));
  peers_.set(zmq::sockopt::subscribe, "dir/");
  for (const auto& p : settings_.peers) peers_.connect(p.xpub_endpoint());
}

}  // namespace dockmesh::broker
