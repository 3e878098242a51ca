// etcd_link: the broker's connection to etcd (--etcd), so that the hub never waits on it. Three
// threads, each with its own etcd_client:
//   - the actor takes commands from the hub (write a key record, create a placement if absent)
//     and every round_ms runs the scheduler election: a lease (TTL lease_ttl_s, kept alive each
//     round) and a transaction that creates `<prefix>leader` with that lease if absent. The
//     leader key's create revision is the fencing epoch. Each round it reports who leads, the
//     epoch, until when this broker may act as leader (the keep-alive's send time + TTL - margin,
//     so a broker that cannot reach etcd stops scheduling before its lease can expire) and etcd's
//     health. On stop it revokes its lease (a clean stop hands leadership over at once).
//     On the same lease it keeps `<prefix>brokers/<broker id>` (settings.broker_record: id,
//     control endpoint, start time), put again whenever the lease is new, so the record vanishes
//     with the broker and a broker starting late finds its live peers there (directory_fetch).
//   - the watcher takes a snapshot of `<prefix>keys/` and follows it with a watch from the
//     snapshot's revision; after any error it takes a new snapshot.
//   - the records watcher does the same for `<prefix>services/` (project and service records,
//     docs/services.md), so every broker holds what any broker wrote.
// They report to the hub as JSON events on one PULL socket (events()); the hub sends commands
// with send(). Created, used and destroyed by the hub thread; the threads touch only their own
// sockets and clients. Events:
// {"ev":"leader"|"keys-snapshot"|"key"|"records-snapshot"|"record"|"placed"|"ack", ...}; key
// records come with their mod_revision ("key": {record, mod_revision}; "keys-snapshot": keys:
// [{record, mod_revision}]).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/storage/etcd_client.hpp"

namespace dockmesh::broker {

// The etcd client is common's (the bridge uses it too); the broker's code names it unqualified.
using common::base64_decode;
using common::base64_encode;
using common::etcd_client;
using common::etcd_event;
using common::etcd_kv;
using common::etcd_lease;
using common::etcd_range;
using common::etcd_txn;
using common::parse_etcd_endpoints;
using common::prefix_end;

struct etcd_link_settings {
  std::vector<std::string> endpoints;
  std::string prefix = "dockmesh/";
  std::string holder;  // this broker's client id, written in the leader key
  std::int64_t lease_ttl_s = 1;
  std::int64_t round_ms =
      100;  // two small HTTP calls a round; a dead leader is replaced this much sooner
  std::string broker_key = {};     // "<prefix>brokers/<id>"; empty: not recorded
  std::string broker_record = {};  // its JSON value
};

class etcd_link {
 public:
  etcd_link(zmq::context_t& ctx, etcd_link_settings settings);
  ~etcd_link();  // stops both threads (revoking the leader lease) and joins
  etcd_link(const etcd_link&) = delete;
  etcd_link& operator=(const etcd_link&) = delete;

  zmq::socket_ref events() { return events_; }
  // Non-blocking: the next event, if one is waiting.
  std::optional<nlohmann::json> receive();
  // Commands: {"op":"put-key","public_key","record"}, {"op":"note-key",...} (create if absent),
  // {"op":"renote-key",...,"revision"} (put while unchanged), {"op":"seed-key",...} (create, or
  // put over a pending record; see key_write), {"op":"place","id","record"},
  // {"op":"put-record"|"delete-record","key","record"}. Never blocks (the queue is bounded by the
  // HWM; a full queue drops the command and the hub learns it from the missing answer).
  void send(const nlohmann::json& command);

 private:
  void run_actor(zmq::socket_t& in, zmq::socket_t& out);
  void run_watcher(zmq::socket_t& out);
  void run_records_watcher(zmq::socket_t& out);
  void follow(zmq::socket_t& out, const std::string& prefix,
              const std::function<nlohmann::json(const etcd_range&)>& snapshot,
              const std::function<nlohmann::json(const etcd_event&)>& change);

  etcd_link_settings settings_;
  std::string commands_endpoint_;
  std::string events_endpoint_;
  zmq::socket_t commands_;
  zmq::socket_t events_;
  std::atomic<bool> stop_{false};
  std::thread actor_;
  std::thread watcher_;
  std::thread records_watcher_;
};

}  // namespace dockmesh::broker
