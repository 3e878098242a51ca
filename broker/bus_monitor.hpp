// bus_monitor: counts the open TCP connections of one of the hub's bus sockets (XSUB or XPUB)
// for broker_metrics, from libzmq's socket monitor (accepted minus disconnected; a connection
// that ZAP refuses is accepted, then disconnected). Owned by the hub and polled on the hub thread:
// events arrive only when a connection opens or closes, never per message. A re-bound bus socket
// gets a new monitor; the old one is destroyed first, while its socket is still open (the
// destructor stops libzmq's monitor before closing the reading end). A failed accept (the
// open-file limit reached) is logged at most once every 10 s.
#pragma once

#include <cstdint>
#include <string>

#include <zmq.hpp>

#include "broker/broker_metrics.hpp"

namespace dockmesh::broker {

class bus_monitor {
 public:
  // `label`: "xsub" or "xpub". Call before `target` binds, so that no accept is missed.
  bus_monitor(zmq::context_t& ctx, zmq::socket_t& target, std::string label,
              broker_metrics& metrics);
  ~bus_monitor();
  bus_monitor(const bus_monitor&) = delete;
  bus_monitor& operator=(const bus_monitor&) = delete;

  zmq::socket_ref socket() { return pair_; }
  // Reads every waiting event (non-blocking) and updates the connections gauge.
  void drain();
  int open() const { return open_; }  // connections accepted and not yet closed

 private:
  void note_accept_failure(const zmq::message_t& event);

  void* target_;  // the monitored socket, alive for as long as this object (the hub's order)
  zmq::socket_t pair_;
  std::string label_;
  broker_metrics& metrics_;
  int open_ = 0;
  std::int64_t last_accept_warning_ms_ = 0;
  std::uint64_t accept_failures_ = 0;  // since the last warning
};

}  // namespace dockmesh::broker
