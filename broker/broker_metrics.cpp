#include "broker/broker_metrics.hpp"

#include <array>
#include <string>

#include "common/protocol/catalogue.hpp"

namespace dockmesh::broker {
namespace {

using namespace common::metrics;

constexpr std::int64_t directory_count_every_ms = 1000;

// Scheduling decisions are made in memory: microseconds, not the seconds of a Docker call.
const bucket_bounds& scheduling_buckets() {
  static const bucket_bounds b{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                               0.001,   0.0025,   0.005,   0.01,   0.025,   0.1};
  return b;
}

std::string_view drop_label(int i) {
  switch (static_cast<drop_reason>(i)) {
    case drop_reason::acl:
      return "acl";
    case drop_reason::subscription:
      return "subscription";
    default:
      return "malformed";
  }
}

// to_string(acl_decision) is prose for logs; labels want stable identifiers.
std::string_view acl_label(int i) {
  switch (static_cast<acl_decision>(i)) {
    case acl_decision::allow:
      return "allow";
    case acl_decision::malformed_topic:
      return "malformed_topic";
    case acl_decision::forbidden_topic:
      return "forbidden_topic";
    case acl_decision::foreign_host:
      return "foreign_host";
    case acl_decision::bad_announcement:
      return "bad_announcement";
    case acl_decision::foreign_reply:
      return "foreign_reply";
    case acl_decision::forged_sender:
      return "forged_sender";
    case acl_decision::count:
      break;
  }
  return "other";
}

std::string code_class(int code) {
  return std::to_string(code / 100) + "xx";
}

}  // namespace

broker_metrics::broker_metrics(registry& r, bool etcd_mode)
    : forwarded_(r.counters("dockmesh_broker_messages_forwarded_total",
                            "Messages forwarded from XSUB to XPUB")
                     .with({})),
      published_(r.counters("dockmesh_broker_messages_published_total",
                            "Messages the broker published itself (replies, dir/ events)")
                     .with({})),
      dropped_(r.counters("dockmesh_broker_messages_dropped_total",
                          "Messages and subscriptions dropped, by reason", {"reason"})),
      acl_(r.counters("dockmesh_broker_acl_decisions_total",
                      "Topic ACL decisions on publish and subscribe, by decision", {"decision"})),
      subscriptions_(r.counters("dockmesh_broker_subscriptions_total",
                                "Subscription requests, applied or refused", {"result"})),
      rebinds_(r.counters("dockmesh_broker_bus_rebinds_total",
                          "Times the bus sockets were re-bound to cut off a revoked key")
                   .with({})),
      refused_full_(r.counters("dockmesh_broker_connections_refused_total",
                               "Bus handshakes refused because --max-connections were open")
                        .with({})),
      zap_(r.counters("dockmesh_broker_zap_results_total",
                      "CURVE handshakes answered by ZAP, by domain and result",
                      {"domain", "result"})),
      connections_(r.gauges("dockmesh_broker_connections",
                            "Open TCP connections on the bus sockets", {"socket"})),
      hosts_(r.gauges("dockmesh_broker_directory_hosts", "Hosts in the directory, by status",
                      {"status"})),
      containers_(
          r.gauges("dockmesh_broker_directory_containers", "Containers in the container index")
              .with({})),
      control_(r.counters("dockmesh_broker_control_requests_total",
                          "Control requests (ROUTER) answered, by action and code class",
                          {"action", "code"})),
      control_seconds_(r.histograms("dockmesh_broker_control_seconds",
                                    "Control request latency, received to answered (held "
                                    "replies wait for fsync or etcd)",
                                    {"action"})),
      scheduling_seconds_(r.histograms("dockmesh_broker_scheduling_seconds",
                                       "Time to place a shared (req/any/) request", {},
                                       scheduling_buckets())
                              .with({})),
      leader_(r.gauges("dockmesh_broker_leader", "1 when this broker schedules req/any/").with({})),
      epoch_(r.gauges("dockmesh_broker_epoch", "The scheduling leader's fencing epoch (etcd mode)")
                 .with({})) {
  if (etcd_mode)
    etcd_reachable_ = &r.gauges("dockmesh_broker_etcd_reachable", "1 while etcd answers").with({});
  for (auto s : {"up", "down", "gone"}) hosts_.with({s});
  for (auto s : {"xsub", "xpub"}) connections_.with({s});
  for (int i = 0; i < static_cast<int>(drop_reason::count); ++i) dropped_.with({drop_label(i)});
  for (int i = 0; i < acl_decision_count; ++i) acl_.with({acl_label(i)});
  for (auto s : {"applied", "refused"}) subscriptions_.with({s});
}

void broker_metrics::add_delta(counter& c, std::uint64_t now, std::uint64_t& last) {
  if (now > last) c.inc(now - last);
  last = now;
}

void broker_metrics::sync(const hub_counters& c, const broker_core& core, std::int64_t now_ms) {
  add_delta(forwarded_, c.forwarded, last_.forwarded);
  add_delta(published_, c.published, last_.published);
  for (int i = 0; i < static_cast<int>(drop_reason::count); ++i)
    add_delta(dropped_.with({drop_label(i)}), c.dropped[i], last_.dropped[i]);
  for (int i = 1; i < acl_decision_count; ++i)
    add_delta(acl_.with({acl_label(i)}), c.acl[i], last_.acl[i]);
  // Allowed: publishes that passed plus subscriptions applied.
  add_delta(acl_.with({"allow"}), c.acl[0] + c.subscriptions, last_.acl[0]);
  add_delta(subscriptions_.with({"applied"}), c.subscriptions, last_.subscriptions);
  add_delta(subscriptions_.with({"refused"}), c.subscriptions_refused, last_.subscriptions_refused);
  add_delta(rebinds_, c.bus_rebinds, last_.bus_rebinds);
  add_delta(refused_full_, c.refused_full, last_.refused_full);
  leader_.set(core.is_leader(now_ms) ? 1 : 0);
  epoch_.set(static_cast<double>(core.ha().epoch));
  if (etcd_reachable_) etcd_reachable_->set(core.ha().etcd_ok ? 1 : 0);
  if (now_ms - last_directory_ms_ < directory_count_every_ms) return;
  last_directory_ms_ = now_ms;
  std::array<std::size_t, 3> by_status{};
  for (const auto& [name, h] : core.hosts().hosts()) ++by_status[static_cast<int>(h.status)];
  for (auto s : {host_status::up, host_status::down, host_status::gone})
    hosts_.with({to_string(s)}).set(static_cast<double>(by_status[static_cast<int>(s)]));
  containers_.set(static_cast<double>(core.containers().size()));
}

void broker_metrics::zap_result(std::string_view domain, bool accepted) {
  auto d = domain == zap_domain_bus || domain == zap_domain_control ? domain : "other";
  zap_.with({d, accepted ? "accepted" : "refused"}).inc();
}

void broker_metrics::control_answered(std::string_view action, int code, double seconds) {
  auto a = common::protocol::catalogue::builtin().find(action) ? action : "unknown";
  control_.with({a, code_class(code)}).inc();
  control_seconds_.with({a}).observe(seconds);
}

void broker_metrics::scheduled(double seconds) {
  scheduling_seconds_.observe(seconds);
}

void broker_metrics::connections(std::string_view socket, int delta) {
  connections_.with({socket}).add(delta);
}

}  // namespace dockmesh::broker
