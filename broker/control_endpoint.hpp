// control_endpoint: the broker's ROUTER socket (control protocol) on the hub thread. Reads
// [routing id][empty][envelope], asks broker_core, and answers [routing id][empty][reply].
// A request that changed keys or tokens is answered only once the change is durable: its reply
// waits for wal_syncer's fsync, which runs on another thread, while the hub keeps forwarding;
// with --etcd it also waits until etcd took the change (503 if etcd refused it or did not answer
// within etcd_wait_ms: the change then holds on this broker only, until etcd's next snapshot).
// Owned by the hub; uses its sockets on the hub thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "broker/broker_core.hpp"
#include "broker/broker_metrics.hpp"
#include "broker/wal_syncer.hpp"

namespace dockmesh::broker {

class control_endpoint {
 public:
  control_endpoint(zmq::socket_t router, broker_core& core, std::size_t max_message_bytes,
                   broker_metrics& metrics);

  zmq::socket_ref socket() { return router_; }
  int syncer_fd() const { return syncer_.done_fd(); }  // readable when fsyncs completed

  // Handles waiting requests (up to a batch). True when a key lost access: the hub must re-bind
  // the bus sockets before it reads anything else.
  bool handle_requests();
  // Sends the replies whose changes the syncer has made durable.
  void handle_sync_completions();

  nlohmann::json counters() const;

 private:
  struct held_reply {
    std::uint64_t ticket;
    std::uint64_t etcd_ticket;  // 0 without --etcd
    std::int64_t held_ms;
    std::vector<zmq::message_t> route;  // routing id (+ empty delimiter)
    common::envelope reply;
    std::string action;
    std::chrono::steady_clock::time_point received;
  };
  bool handle_one(std::vector<zmq::message_t>& frames);
  // Sends the reply and records its latency since `received`.
  void answer(std::vector<zmq::message_t>& route, const common::envelope& reply,
              std::string_view action, std::chrono::steady_clock::time_point received);

  zmq::socket_t router_;
  broker_core& core_;
  std::size_t max_message_bytes_;
  broker_metrics& metrics_;
  wal_syncer syncer_;
  std::deque<held_reply> held_;
  std::uint64_t requests_ = 0;
  std::uint64_t malformed_ = 0;
  std::uint64_t held_total_ = 0;
  std::uint64_t sync_failures_ = 0;
};

}  // namespace dockmesh::broker
