#include "broker/bus_monitor.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "common/envelope.hpp"
#include "common/log.hpp"

namespace dockmesh::broker {

bus_monitor::bus_monitor(zmq::context_t& ctx, zmq::socket_t& target, std::string label,
                         broker_metrics& metrics)
    : target_(target.handle()),
      pair_(ctx, zmq::socket_type::pair),
      label_(std::move(label)),
      metrics_(metrics) {
  static std::atomic<int> next{0};
  std::string endpoint = "inproc://dockmesh-monitor-" + label_ + "-" + std::to_string(++next);
  if (zmq_socket_monitor(target.handle(), endpoint.c_str(),
                         ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_ACCEPT_FAILED) !=
      0)
    throw std::runtime_error("cannot monitor the " + label_ +
                             " socket: " + zmq_strerror(zmq_errno()));
  pair_.set(zmq::sockopt::linger, 0);
  pair_.connect(endpoint);
}

bus_monitor::~bus_monitor() {
  zmq_socket_monitor(target_, nullptr, 0);
  metrics_.connections(label_, -open_);
}

void bus_monitor::drain() {
  for (int n = 0; n < 1024; ++n) {
    zmq::message_t event, address;
    if (!pair_.recv(event, zmq::recv_flags::dontwait)) return;
    // [uint16 event, uint32 value][endpoint]: libzmq always sends both frames.
    if (event.more() && !pair_.recv(address, zmq::recv_flags::none)) return;
    if (event.size() < sizeof(std::uint16_t)) continue;
    std::uint16_t id = 0;
    std::memcpy(&id, event.data(), sizeof id);
    if (id == ZMQ_EVENT_ACCEPT_FAILED) {
      note_accept_failure(event);
      continue;
    }
    int delta = id == ZMQ_EVENT_ACCEPTED ? 1 : id == ZMQ_EVENT_DISCONNECTED ? -1 : 0;
    if (delta < 0 && open_ == 0) continue;  // a connection accepted before this monitor
    open_ += delta;
    metrics_.connections(label_, delta);
  }
}

void bus_monitor::note_accept_failure(const zmq::message_t& event) {
  ++accept_failures_;
  auto now = common::now_ms();
  if (now - last_accept_warning_ms_ < 10000) return;
  std::uint32_t err = 0;
  if (event.size() >= 6) std::memcpy(&err, static_cast<const char*>(event.data()) + 2, sizeof err);
  DM_LOG(warn) << "the " << label_ << " socket could not accept " << accept_failures_
               << " connection(s): " << zmq_strerror(static_cast<int>(err)) << " (" << open_
               << " open; see --max-connections and the open-file limit)";
  last_accept_warning_ms_ = now;
  accept_failures_ = 0;
}

}  // namespace dockmesh::broker
