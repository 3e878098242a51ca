#include "broker/broker_core.hpp"

#include "broker/request_gate.hpp"
#include "common/bus_identity.hpp"
#include "common/log.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::envelope;
using nlohmann::json;

constexpr std::int64_t flush_every_ms = 200;
constexpr std::int64_t heartbeat_every_ms = 1000;
constexpr std::int64_t purge_every_ms = 60000;
constexpr std::int64_t inventory_ask_every_ms = 5000;

// broker-<id>_<server key>: the broker's reply topic, which no agent can claim as its fqdn
// (bus_identity.hpp). Its replies still say `from: broker-<id>`.
std::string own_client_id(const broker_settings& settings, std::string_view server_public_key) {
  auto id = common::key_bound_client_id(settings.client_id(), server_public_key);
  return id ? *id : settings.client_id();  // a test's placeholder key: the plain id
}

}  // namespace

broker_core::broker_core(const broker_settings& settings, std::string server_public_key,
                         std::int64_t now_ms)
    : settings_(settings),
      client_id_(settings.client_id()),
      reply_client_id_(own_client_id(settings, server_public_key)),
      db_(std::make_unique<state_db>(settings.data_dir, settings.in_memory_store,
                                     settings.plain_map_store)),
      keys_(*db_),
      tokens_(*db_),
      zap_(keys_, std::move(server_public_key)),
      hosts_(directory_timing{settings.down_after_ms, settings.gone_after_ms}),
      service_store_(std::make_unique<rocks_service_store>(*db_)),
      services_(*service_store_),
      service_calls_(services_),
      policies_(services_),
      policy_calls_(policies_, containers_),
      dispatcher_(client_id_),
      control_(keys_, tokens_, hosts_, containers_, client_id_),
      peers_(settings.broker_id, !settings.peers.empty(), now_ms),
      inflight_(client_id_),
      unscheduled_(client_id_),
      started_ms_(now_ms) {
  keys_.merge_authorized(load_authorized_keys(settings.authorized_keys_file), now_ms);
  hosts_.load(*db_, now_ms);
  containers_.load(*db_);
  dispatcher_.reply_as(reply_client_id_);
  dispatcher_.attach(*db_, now_ms);
  audit_.attach(*db_);
  control_.set_audit_source([this](const json& q) { return audit_.query(q); });
  control_.set_service_calls(&service_calls_);
  wire_policies();
  service_calls_.set_status([this](json s) {
    return reconciler_.with_status(std::move(s), {services_, hosts_, containers_});
  });
  DM_LOG(info) << "directory opened in " << settings.data_dir << ": " << hosts_.hosts().size()
               << " host(s), " << containers_.size() << " container(s), " << keys_.list().size()
               << " key(s), " << services_.services().size() << " service(s)";
}

publication broker_core::broker_message(std::string topic, std::string action, json body) const {
  envelope e;
  e.id = common::new_message_id();
  e.action = std::move(action);
  e.from = client_id_;
  e.reply_to = dispatcher_.reply_topic();
  e.role = "admin";  // agents accept broker-originated requests (reannounce) as admin
  e.user = client_id_;
  e.body = std::move(body);
  return {std::move(topic), std::move(e)};
}

publications broker_core::startup(std::int64_t) {
  return {broker_message(common::topic_req_all(), std::string(common::protocol::names::reannounce),
                         json::object())};
}

publications broker_core::reannounce_rounds(std::int64_t now_ms) {
  // Agents are still reconnecting when the broker starts, so the broadcast is repeated 1 s and
  // 3 s later; hosts that miss all three are asked one by one (maybe_ask_inventory).
  publications out;
  if (reannounce_round_ < 2 && now_ms - started_ms_ >= (reannounce_round_ == 0 ? 1000 : 3000)) {
    ++reannounce_round_;
    out = startup(now_ms);
  }
  return out;
}

publication broker_core::dir_event(const directory_event& e) const {
  return broker_message(common::topic_dir(), e.action, e.body);
}

void broker_core::add_events(const directory_events& events, publications& out) {
  fleet_.invalidate(events);
  if (!events.empty()) reconciler_.directory_changed();
  for (const auto& e : events) {
    out.push_back(dir_event(e));
    if (e.action == common::protocol::names::host_down ||
        e.action == common::protocol::names::host_gone) {
      // Requests still waiting on this host end now, not at their deadline.
      const host_entry* h = hosts_.find(e.body.value("fqdn", ""));
      if (h)
        for (auto& p : inflight_.host_down(h->fqdn, host_down_message(*h))) {
          // A sub-request of this broker's own fan-out: the answer is the dispatcher's to take
          // (published, it would go to our own reply topic, which the broker does not read back).
          if (p.topic == dispatcher_.reply_topic()) {
            for (auto& q : on_own_reply(p.env, common::now_ms())) out.push_back(std::move(q));
          } else {
            out.push_back(std::move(p));
          }
        }
    }
    if (e.action == common::protocol::names::host_gone) {
      std::string fqdn = e.body.value("fqdn", "");
      add_events(containers_.remove_host(fqdn), out);
      inventory_asked_.erase(fqdn);
    }
  }
}

void broker_core::maybe_ask_inventory(const std::string& fqdn, std::int64_t now_ms,
                                      publications& out) {
  // After a restart we may hold a stale inventory: ask each host once (then every few seconds
  // until it answers) rather than rely on the start-up broadcast, which agents that were still
  // reconnecting did not see.
  if (containers_.heard_since_start(fqdn)) return;
  auto& last = inventory_asked_[fqdn];
  if (last && now_ms - last < inventory_ask_every_ms) return;
  last = now_ms;
  auto topic = common::topic_req_host(fqdn);
  if (topic)
    out.push_back(
        broker_message(*topic, std::string(common::protocol::names::reannounce), json::object()));
}

publications broker_core::on_announcement(const envelope& env, std::int64_t now_ms) {
  ++announcements_;
  publications out;
  auto events = env.action == common::protocol::names::inventory
                    ? containers_.apply_inventory(env.body)
                    : hosts_.apply(env.action, env.body, now_ms);
  if (!events) {
    ++bad_announcements_;
    DM_LOG(debug) << "announcement from " << env.from << " ignored: " << events.err().message;
    return out;
  }
  add_events(*events, out);
  if (env.action == common::protocol::names::inventory) {
    std::string fqdn = env.body.value("fqdn", "");
    std::unordered_set<std::string> made;
    for (const auto& c : containers_.on_host(fqdn))
      if (!c.request.empty()) made.insert(c.request);
    dispatcher_.on_inventory(fqdn, made);
  }
  // Changes that matter (new host, new content, status, containers) are written at once, so a
  // query answered after them survives kill -9; bare heartbeats wait for the batched flush.
  if (!events->empty()) flush(now_ms);
  if (env.action == common::protocol::names::heartbeat ||
      env.action == common::protocol::names::register_host)
    maybe_ask_inventory(env.body.value("fqdn", ""), now_ms, out);
  return out;
}

publications broker_core::on_shared_request(const envelope& env, std::int64_t now_ms) {
  auto no = policies_.check_create_quota(env, containers_);
  if (!no) no = check_name_free(env, containers_);
  if (no && !env.reply_to.empty())
    return {refusal(env, no->code, std::move(no->message), std::move(no->body))};
  auto out = dispatcher_.on_request(
      env, [this]() -> const std::vector<host_candidate>& { return fleet(); }, now_ms);
  track_sent(out, now_ms);
  return out;
}

publications broker_core::on_targeted_request(std::string_view host, const envelope& env,
                                              std::int64_t now_ms, bool& forward) {
  bool settled = now_ms - started_ms_ >= settings_.down_after_ms;
  auto no = policies_.check_targeted(host, env);
  if (!no) no = policies_.check_create_quota(env, containers_);
  if (!no) no = check_targeted(host, env, hosts_, containers_, settled);
  if (!no) {
    inflight_.add(host, env, now_ms);
    return {};
  }
  forward = false;
  if (env.reply_to.empty()) return {};
  return {refusal(env, no->code, std::move(no->message), std::move(no->body))};
}

publication broker_core::refusal(const envelope& req, int code, std::string message,
                                 json body) const {
  envelope r = common::make_reply(req, client_id_, code, std::move(body));
  r.err = common::error{common::from_status(code), std::move(message)};
  return {req.reply_to, std::move(r)};
}

void broker_core::track_sent(const publications& out, std::int64_t now_ms) {
  // Scheduled requests the broker itself sends to agents end like forwarded ones when their
  // host goes down.
  for (const auto& p : out) {
    auto t = common::parse_topic(p.topic);
    if (t && t->kind == common::topic_kind::req_host) inflight_.add(t->name, p.env, now_ms);
  }
}

publications broker_core::on_own_reply(const envelope& env, std::int64_t now_ms) {
  publications out;
  for (auto& p : dispatcher_.on_reply(env, now_ms)) deliver(std::move(p), now_ms, out);
  reconciler_.on_reply(env, now_ms);
  return out;
}

control_outcome broker_core::on_control(const identity& who, std::string_view public_key,
                                        const envelope& req, std::int64_t now_ms) {
  // With etcd, a broker that has not applied its first snapshot of the records (the first
  // moments after a start) would answer from what it held when it stopped, and a change made
  // from that (a scale to what it still remembers) could be taken for no change at all.
  if (etcd_mode() && !records_loaded_ &&
      (is_service_call(req.action) || is_policy_call(req.action)))
    return {common::make_error_reply(
                req, client_id_,
                {common::errc::unavailable,
                 "this broker is still loading projects and services from etcd; try again"}),
            false};
  return control_.handle(who, public_key, req, now_ms);
}

publications broker_core::tick(std::int64_t now_ms, std::optional<std::int64_t> heard_until_ms) {
  publications out;
  add_events(hosts_.tick(now_ms, heard_until_ms), out);
  if (!out.empty()) last_flush_ms_ = 0;  // status changes are written in this tick
  for (auto& p : dispatcher_.tick(now_ms)) out.push_back(std::move(p));
  audit_.tick(now_ms);
  inflight_.expire(now_ms);
  // Held while etcd was unreachable; if it came back meanwhile, a leader had the request.
  for (auto& p : unscheduled_.due(now_ms))
    if (!ha_.etcd_ok) out.push_back(std::move(p));
  for (auto& p : reannounce_rounds(now_ms)) out.push_back(std::move(p));
  run_reconciler(now_ms, out);
  if (now_ms - last_flush_ms_ >= flush_every_ms) {
    last_flush_ms_ = now_ms;
    flush(now_ms);
  }
  if (now_ms - last_heartbeat_ms_ >= heartbeat_every_ms) {
    last_heartbeat_ms_ = now_ms;
    out.push_back(broker_message(common::topic_dir(),
                                 std::string(common::protocol::names::broker_heartbeat),
                                 {{"broker_id", settings_.broker_id},
                                  {"started", started_ms_},
                                  {"leader", is_leader(now_ms)},
                                  {"epoch", ha_.epoch}}));
  }
  if (now_ms - last_purge_ms_ >= purge_every_ms) {
    last_purge_ms_ = now_ms;
    tokens_.purge_expired(now_ms);
  }
  return out;
}

void broker_core::heard_peer(const envelope& env, std::int64_t now_ms) {
  if (env.action != common::protocol::names::broker_heartbeat || !env.body.is_object()) return;
  auto id = env.body.find("broker_id");
  if (id != env.body.end() && id->is_number_integer()) peers_.heard(id->get<int>(), now_ms);
}

void broker_core::flush(std::int64_t now_ms, bool everything) {
  auto h = hosts_.flush(*db_, now_ms, everything);
  auto c = containers_.flush(*db_);
  if (!h) {
    DM_LOG(error) << "saving hosts: " << h.err().message;
  }
  if (!c) {
    DM_LOG(error) << "saving containers: " << c.err().message;
  }
}

common::result<snapshot_counts> broker_core::load_snapshot(const json& body, std::int64_t now_ms) {
  auto counts = load_directory_snapshot(body, hosts_, containers_, now_ms);
  if (!counts) return counts;
  // The scheduler learns which requests already made containers, as from an inventory.
  containers_.for_each_inventory([this](const std::string& fqdn, const version_stamp&,
                                        const std::vector<container_entry>& list) {
    std::unordered_set<std::string> made;
    for (const auto& c : list)
      if (!c.request.empty()) made.insert(c.request);
    if (!made.empty()) dispatcher_.on_inventory(fqdn, made);
  });
  flush(now_ms);
  return counts;
}

void broker_core::set_stats_source(std::function<json()> fn) {
  control_.set_stats_source([this, fn = std::move(fn)] {
    json s = fn ? fn() : json::object();
    s.update(stats());
    return s;
  });
}

json broker_core::stats() const {
  const auto& d = dispatcher_.counters();
  return {{"broker_id", settings_.broker_id},
          {"hosts", hosts_.hosts().size()},
          {"containers", containers_.size()},
          {"announcements", announcements_},
          {"bad_announcements", bad_announcements_},
          {"zap_accepted", zap_.accepted()},
          {"zap_refused", zap_.refused()},
          {"scheduled", d.scheduled},
          {"unplaceable", d.unplaceable},
          {"invalid_requests", d.invalid},
          {"schedule_retries", d.retries},
          {"pending_fanouts", dispatcher_.pending_fanouts()},
          {"audit_written", audit_.written()},
          {"audit_waiting", audit_.waiting()},
          {"inflight_targeted", inflight_.size()},
          {"ha", ha_.to_json(common::now_ms())}};
}

// Host policies: what `hosts` answers and what the scheduler sees of each host. A policy write
// (here or from etcd) invalidates the host's candidate.
void broker_core::wire_policies() {
  control_.set_policy_calls(&policy_calls_);
  control_.set_host_view([this](json& h) {
    auto p = policies_.policy_of(h.value("fqdn", ""));
    h["pool"] = p.pool;
    h["cordoned"] = p.cordoned;
    h["draining"] = p.draining;
  });
  policies_.on_change([this](const std::string& fqdn) { fleet_.invalidate(fqdn); });
  dispatcher_.set_teams_of(
      [this](const std::string& user) { return policies_.teams().teams_of(user); });
  service_calls_.set_quota_check([this](const std::string& owner, const std::string& id,
                                        std::int64_t replicas, std::int64_t memory) {
    return policies_.check_service_quota(owner, id, replicas, memory, containers_);
  });
  fleet_.set_policy([this](host_candidate& c) {
    auto p = policies_.policy_of(c.fqdn);
    c.pool = p.pool;
    c.closed = p.closed();
  });
}

const std::vector<host_candidate>& broker_core::fleet() {
  return fleet_.get(hosts_, containers_);
}

}  // namespace dockmesh::broker
