// broker_core: everything the broker knows and decides, without sockets: the state database,
// key store and join tokens, the host directory and container index, the scheduler front
// (create_dispatcher), the service reconciler (on the scheduling broker), the control service and
// the peer view. The hub feeds it what it reads
// (announcements, shared requests, replies to the broker, control requests, timer ticks) and
// publishes what it returns. Owned by the hub thread; its only blocking calls are RocksDB writes:
// directory changes are batched and written without sync every flush interval, key changes are
// single sync writes (rare admin actions). With --etcd, key changes, project and service records
// and placements also go to etcd through a sink the hub provides (etcd_link), and what etcd says
// comes back through on_etcd_event: other brokers' key changes and records, leadership and its
// epoch, committed placements.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "broker/audit_log.hpp"
#include "broker/broker_options.hpp"
#include "broker/broker_peers.hpp"
#include "broker/container_index.hpp"
#include "broker/control_service.hpp"
#include "broker/create_dispatcher.hpp"
#include "broker/directory_snapshot.hpp"
#include "broker/fleet_view.hpp"
#include "broker/host_directory.hpp"
#include "broker/host_policy.hpp"
#include "broker/host_policy_calls.hpp"
#include "broker/inflight_requests.hpp"
#include "broker/join_tokens.hpp"
#include "broker/key_store.hpp"
#include "broker/publication.hpp"
#include "broker/reconciler.hpp"
#include "broker/service_calls.hpp"
#include "broker/service_registry.hpp"
#include "broker/service_store.hpp"
#include "broker/state_db.hpp"
#include "broker/unscheduled_requests.hpp"
#include "broker/zap_authenticator.hpp"

namespace dockmesh::broker {

// What this broker knows of the etcd side (etcd mode only).
struct ha_view {
  bool etcd_ok = false;
  bool leader = false;
  std::int64_t epoch = 0;        // the current leader's fencing epoch
  std::int64_t valid_until = 0;  // unix ms: this broker may schedule until then
  std::string holder;            // the leader's client id
  std::string endpoint;
  std::string error;
  std::int64_t keys_revision = 0;  // of the last key snapshot
  nlohmann::json to_json(std::int64_t now_ms) const;
};

struct etcd_outcome {
  publications out;
  bool cut_off = false;  // a key lost access: the hub re-binds its bus sockets
};

class broker_core {
 public:
  // Opens --data-dir, loads the directory and keys, merges --authorized-keys. Throws.
  broker_core(const broker_settings& settings, std::string server_public_key, std::int64_t now_ms);

  zap_authenticator& zap() { return zap_; }
  const std::string& client_id() const { return client_id_; }
  const std::string& reply_topic() const { return dispatcher_.reply_topic(); }

  // What a starting broker says: `reannounce` on req/all/.
  publications startup(std::int64_t now_ms);
  // ann/ envelopes that passed topic_acl.
  publications on_announcement(const common::envelope& env, std::int64_t now_ms);
  // req/any/ requests; only called on the scheduling broker.
  publications on_shared_request(const common::envelope& env, std::int64_t now_ms);
  // req/any/ requests on a broker that does not schedule now: with --etcd and etcd unreachable,
  // held and answered 503 unless another broker's answer passes first (unscheduled_requests).
  void on_unscheduled_request(const common::envelope& env, std::int64_t now_ms);
  // req/host/<fqdn>/ requests that passed topic_acl: refused at once (404 unknown host, 503 host
  // down, 409 name taken) with `forward` false, else remembered as in flight (a host that goes
  // down answers them 503).
  publications on_targeted_request(std::string_view host, const common::envelope& env,
                                   std::int64_t now_ms, bool& forward);
  // A reply seen passing through (to anyone): its request is no longer in flight.
  void reply_seen(const std::string& request_id) {
    inflight_.answered(request_id);
    unscheduled_.answered(request_id);
  }
  bool tracking_requests() const { return inflight_.size() > 0 || unscheduled_.size() > 0; }
  // Replies on this broker's own rep/ topic.
  publications on_own_reply(const common::envelope& env, std::int64_t now_ms);
  // See create_dispatcher::reply_from_placed_host.
  bool reply_from_placed_host(const std::string& re, std::string_view fqdn) const {
    return dispatcher_.reply_from_placed_host(re, fqdn);
  }
  control_outcome on_control(const identity& who, std::string_view public_key,
                             const common::envelope& req, std::int64_t now_ms);
  // Every ~100 ms: liveness, fan-out deadlines, batched RocksDB flush, token expiry, the
  // broker's own heartbeat on dir/.
  // `heard_until_ms`: when the hub last had no bus input waiting (host_directory::tick).
  publications tick(std::int64_t now_ms, std::optional<std::int64_t> heard_until_ms = {});

  void heard_peer(const common::envelope& env, std::int64_t now_ms);
  bool is_leader(std::int64_t now_ms) const;

  bool etcd_mode() const { return !settings_.etcd_endpoints.empty(); }
  // etcd mode: where commands for etcd_link go (set by the hub before it runs).
  void set_etcd_sink(std::function<void(nlohmann::json)> sink);
  etcd_outcome on_etcd_event(const nlohmann::json& ev, std::int64_t now_ms);
  // The ticket of the last etcd write issued since the previous call (0: none): a control reply
  // that changed a key waits for etcd_settled(ticket).
  std::uint64_t take_etcd_ticket() { return std::exchange(etcd_unclaimed_, 0); }
  // nullopt while etcd has not answered that write; then whether it took it.
  std::optional<bool> etcd_settled(std::uint64_t ticket) const;
  // When etcd refused that write because its name belongs to another record: who holds it.
  std::string etcd_conflict(std::uint64_t ticket) const;
  const ha_view& ha() const { return ha_; }

  void set_stats_source(std::function<nlohmann::json()> fn);
  nlohmann::json stats() const;
  // Persists directory changes (everything pending when `everything`, on stop).
  void flush(std::int64_t now_ms, bool everything = false);
  state_db& db() { return *db_; }
  audit_log& audit() { return audit_; }

  // A peer's directory-snapshot reply, before the hub serves (snapshot_fetch): checked whole,
  // then applied last-writer-wins and written to the local store (directory_snapshot.hpp).
  common::result<snapshot_counts> load_snapshot(const nlohmann::json& body, std::int64_t now_ms);
  std::int64_t started_ms() const { return started_ms_; }

  const host_directory& hosts() const { return hosts_; }
  const container_index& containers() const { return containers_; }
  const service_registry& services() const { return services_; }
  const host_policy_book& policies() const { return policies_; }
  const std::vector<host_candidate>& fleet();

 private:
  publication dir_event(const directory_event& e) const;
  void add_events(const directory_events& events, publications& out);
  void maybe_ask_inventory(const std::string& fqdn, std::int64_t now_ms, publications& out);
  publications reannounce_rounds(std::int64_t now_ms);
  publication broker_message(std::string topic, std::string action, nlohmann::json body) const;
  publication refusal(const common::envelope& req, int code, std::string message,
                      nlohmann::json body) const;
  void track_sent(const publications& out, std::int64_t now_ms);
  void wire_policies();
  static std::string record_key(record_kind kind, const std::string& id);
  void apply_record(const nlohmann::json& entry);
  void apply_snapshot(const nlohmann::json& records);
  void withdraw_record(const std::string& key, const std::string& holder);
  // The reconciler (broker_core_reconcile.cpp): runs on the scheduling broker only.
  void run_reconciler(std::int64_t now_ms, publications& out);
  void fail_update(const std::string& id, const std::string& why, std::int64_t now_ms,
                   std::vector<nlohmann::json>& events);
  bool reconcile_ready(std::int64_t now_ms) const;
  // A publication the broker made for itself (a refusal of one of the reconciler's requests)
  // goes to the reconciler; anything else to `out`.
  void deliver(publication p, std::int64_t now_ms, publications& out);

  broker_settings settings_;
  std::string client_id_;        // `from` of the broker's messages: broker-<id>
  std::string reply_client_id_;  // its reply topic's client id: broker-<id>_<server key>
  std::unique_ptr<state_db> db_;
  key_store keys_;
  join_tokens tokens_;
  zap_authenticator zap_;
  host_directory hosts_;
  container_index containers_;
  // Projects and services: the store (RocksDB on one broker), what is in it, the control calls.
  std::unique_ptr<service_store> service_store_;
  service_registry services_;
  service_calls service_calls_;
  // Host pools, cordon, drain and quotas: rules kept in the registry (host_policy.hpp).
  host_policy_book policies_;
  host_policy_calls policy_calls_;
  create_dispatcher dispatcher_;
  audit_log audit_;
  control_service control_;
  broker_peers peers_;
  fleet_view fleet_;
  inflight_requests inflight_;
  unscheduled_requests unscheduled_;
  ha_view ha_;
  reconciler reconciler_;
  bool reconciling_ = false;     // this broker ran the reconciler since it last led
  bool records_loaded_ = false;  // etcd mode: the first snapshot of records is applied
  std::function<void(nlohmann::json)> etcd_sink_;
  std::uint64_t etcd_next_ticket_ = 0;
  std::uint64_t etcd_unclaimed_ = 0;
  std::uint64_t etcd_acked_through_ = 0;  // the actor answers commands in order
  std::map<std::uint64_t, std::string>
      etcd_failed_;  // ticket -> the name's holder, if that was why
  std::unordered_map<std::string, std::int64_t> inventory_asked_;  // fqdn -> unix ms
  std::int64_t started_ms_;
  std::int64_t last_flush_ms_ = 0;
  std::int64_t last_heartbeat_ms_ = 0;
  std::int64_t last_purge_ms_ = 0;
  int reannounce_round_ = 0;
  std::uint64_t announcements_ = 0;
  std::uint64_t bad_announcements_ = 0;
};

}  // namespace dockmesh::broker
