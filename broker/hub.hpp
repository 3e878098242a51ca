// hub: the broker's sockets and its one poll loop (the hub thread). It owns
//   XSUB  (publishers connect; subscribes to everything so every message reaches the broker),
//   XPUB  (subscribers connect; ZMQ_XPUB_MANUAL: every subscription comes to the hub with the
//          subscriber's User-Id and Public-Key, and only what topic_acl allows is applied),
//   ROUTER (control protocol),
//   REP on inproc://zeromq.zap.01 (ZAP: answered here, between two forwarding batches),
//   SUB to peer brokers' XPUB (their dir/, for the leader rule);
// and it polls two wakeups: its actor's (the owner's stop) and the WAL syncer's (fsyncs done).
// The hub is built and run on a common::actor's thread (broker/main.cpp): its constructor binds,
// then the body calls ready() and run(), which returns once the actor is told to stop.
// hub.cpp holds the loop and the forwarding path; hub_sockets.cpp makes, binds and re-binds the
// bus sockets and connects the peer link.
// All bus sockets are CURVE servers (no plaintext mode) with ZMQ_MAXMSGSIZE. The hot path moves
// zmq::message_t frames from XSUB to XPUB without copying; it reads the sender's User-Id (set by
// ZAP) from the frame, checks topic_acl, and decodes only ann/, req/any/, req/host/ and replies
// addressed to the broker; an agent's reply is peeked (its `from` and `re`) so that it answers
// only as itself and only for requests placed on it. A targeted request to a host the directory
// knows is down (or does not know) is answered at once by the broker (broker_core,
// request_gate); one that goes on is remembered until its deadline so that a host going down
// ends it. Every forwarded message's topic frame gets the sender's User-Id appended after a '\0'
// (the stamp of common/bus_identity.hpp); the broker's own messages are stamped broker:broker.
// Everything else (events, replies) is forwarded by topic. Dropped messages and refused
// subscriptions are counted by reason and logged at most once a second per reason.
// Cutting off a key: ZeroMQ cannot close one peer's connection, so when an accepted key is
// revoked the hub closes and re-binds its XSUB and XPUB sockets at once (before it reads another
// message): every client reconnects, ZAP runs again, and the revoked key is refused. Messages in
// flight at that moment are lost (requesters retry) and subscribers miss ~1 reconnect interval.
// A client refused by ZAP is not retried by libzmq 4.3: it must connect again itself.
// On the ROUTER (control_endpoint), every request is checked against the key's current state.
// With --etcd, etcd_link's events (key changes made at other brokers, leadership, committed
// placements) are read here too; a key revoked anywhere is cut off the same way.
// Never blocks except in zmq_poll (bounded by the next timer) and non-sync RocksDB writes
// (fsyncs run on wal_syncer's thread).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "broker/broker_core.hpp"
#include "broker/broker_metrics.hpp"
#include "broker/broker_options.hpp"
#include "broker/bus_monitor.hpp"
#include "broker/control_endpoint.hpp"
#include "broker/etcd_link.hpp"
#include "broker/hub_counters.hpp"
#include "broker/identity.hpp"
#include "broker/topic_acl.hpp"
#include "common/actor.hpp"
#include "common/curve_keys.hpp"

namespace dockmesh::broker {

class hub {
 public:
  // Binds every socket (ZAP first, so no handshake can happen without it). Throws on bind errors.
  // `metrics`: the registry the broker's metrics go to (main's; benches and tests pass their own).
  hub(zmq::context_t& ctx, const broker_settings& settings, common::curve_keypair server_keys,
      broker_core& core, common::metrics::registry& metrics);
  // Runs on `thread` (the actor whose body built this hub) until it is told to stop.
  void run(common::actor& thread);

  const hub_counters& counters() const { return counters_; }
  // Bus connections open now (accepted, not yet closed), from the sockets' monitors.
  int open_connections() const { return xsub_monitor_->open() + xpub_monitor_->open(); }

 private:
  // hub_sockets.cpp
  void make_bus_sockets();    // new XSUB/XPUB (the old ones closed), each bound if its port is free
  bool bind_bus_sockets();    // binds what is not bound yet; false while a port is still taken
  void wait_for_bus_binds();  // at start: throws if a port stays taken
  zmq::socket_t make_server_socket(zmq::socket_type type, const char* domain);
  void connect_peers();
  // hub.cpp
  bool forward_batch();  // true once xsub had nothing more to read
  void note_lag();
  bool forward_one();
  void inspect(const zmq::message_t& topic_frame, const topic_view& t, zmq::message_t& body,
               const identity& who, bool& forward);
  void handle_zap();
  bool bus_full();  // more bus connections open than max_connections_ (hub_access.cpp)
  void drain_subscriptions();
  void decide_subscription(zmq::message_t& m);
  bool reply_allowed(zmq::message_t& body, const identity& who, std::string_view topic);
  void audit_request(const zmq::message_t& topic, const identity& who, const topic_view& t,
                     const common::envelope& req);
  void drain_peers();
  void drain_etcd();
  void publish(const publications& out);
  void log_summary();
  void drop(drop_reason why, const identity& who, std::string_view topic, std::string_view detail);
  const identity& sender_of(const zmq::message_t& frame);

  zmq::context_t& ctx_;
  broker_settings settings_;
  common::curve_keypair server_keys_;
  broker_core& core_;
  std::string own_reply_topic_;
  zmq::socket_t zap_;
  zmq::socket_t xsub_;
  zmq::socket_t xpub_;
  std::unique_ptr<control_endpoint> control_;
  zmq::socket_t peers_;
  std::unique_ptr<etcd_link> etcd_;  // --etcd only
  bool rebind_needed_ = false;
  const int max_connections_ = effective_max_connections(settings_);  // after settings_
  std::int64_t last_full_log_ms_ = 0;
  // A re-bind's ports can stay taken for a moment while libzmq's I/O thread closes the old
  // listeners: the loop retries every bind_retry without sleeping (control and ZAP go on).
  static constexpr std::chrono::milliseconds bind_retry{10}, bind_patience{2000};
  bool xsub_bound_ = false, xpub_bound_ = false;
  std::chrono::steady_clock::time_point binds_since_;
  bool bind_warned_ = false;
  std::int64_t caught_up_ms_ = common::now_ms();  // last time xsub had nothing waiting
  bool lagging_ = false;
  hub_counters counters_;
  broker_metrics metrics_;
  std::unique_ptr<bus_monitor> xsub_monitor_, xpub_monitor_;  // open connections, for metrics_
  // One-entry identity cache: consecutive frames usually come from the same connection.
  std::string cached_user_id_;
  identity cached_identity_;
  std::array<std::int64_t, static_cast<int>(drop_reason::count)> last_drop_log_{};
  std::array<std::uint64_t, static_cast<int>(drop_reason::count)> suppressed_{};
  std::chrono::steady_clock::time_point last_summary_ = std::chrono::steady_clock::now();
  std::uint64_t summary_forwarded_ = 0;
  std::uint64_t summary_dropped_ = 0;
};

}  // namespace dockmesh::broker
