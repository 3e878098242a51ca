#include "broker/hub.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "broker/snapshot_fetch.hpp"
#include "common/bus_identity.hpp"
#include "common/log.hpp"
#include "common/poll_set.hpp"

namespace dockmesh::broker {
namespace {

using common::envelope;
using common::topic_kind;
using steady = std::chrono::steady_clock;

constexpr auto tick_every = std::chrono::milliseconds(100);
constexpr int forward_batch_size = 512;

std::string_view view(const zmq::message_t& m) {
  return {m.data<char>(), m.size()};
}

void drain_rest(zmq::socket_t& s, zmq::message_t& last) {
  while (last.more())
    if (!s.recv(last, zmq::recv_flags::none)) break;
}

const char* drop_name(drop_reason r) {
  switch (r) {
    case drop_reason::acl:
      return "acl";
    case drop_reason::subscription:
      return "subscription refused";
    default:
      return "malformed";
  }
}

// topic + '\0' + stamp: subscriptions still match the topic as a prefix, and no extra frame is
// sent (CURVE encrypts every frame on its own: a third frame cost ~0.6 us per message here).
zmq::message_t stamped(std::string_view topic, std::string_view stamp) {
  zmq::message_t m(topic.size() + 1 + stamp.size());
  char* p = m.data<char>();
  std::memcpy(p, topic.data(), topic.size());
  p[topic.size()] = '\0';
  std::memcpy(p + topic.size() + 1, stamp.data(), stamp.size());
  return m;
}

}  // namespace

nlohmann::json hub_counters::to_json() const {
  nlohmann::json acl_by = nlohmann::json::object();
  for (int i = 1; i < acl_decision_count; ++i)
    acl_by[std::string(broker::to_string(static_cast<acl_decision>(i)))] = acl[i];
  return {{"forwarded", forwarded},
          {"published", published},
          {"dropped_malformed", dropped[static_cast<int>(drop_reason::malformed)]},
          {"dropped_acl", dropped[static_cast<int>(drop_reason::acl)]},
          {"dropped_subscriptions", dropped[static_cast<int>(drop_reason::subscription)]},
          {"acl", acl_by},
          {"subscriptions", subscriptions},
          {"subscriptions_refused", subscriptions_refused},
          {"bus_rebinds", bus_rebinds},
          {"connections_refused", refused_full}};
}

hub::hub(zmq::context_t& ctx, const broker_settings& settings, common::curve_keypair server_keys,
         broker_core& core, common::metrics::registry& metrics)
    : ctx_(ctx),
      settings_(settings),
      server_keys_(std::move(server_keys)),
      core_(core),
      own_reply_topic_(core.reply_topic()),
      zap_(ctx, zmq::socket_type::rep),
      metrics_(metrics, core.etcd_mode()) {
  zap_.set(zmq::sockopt::linger, 0);
  zap_.set(zmq::sockopt::maxmsgsize, std::int64_t{64 * 1024});
  zap_.bind(zap_endpoint);  // before any CURVE socket: without a handler libzmq admits every key
  make_bus_sockets();
  wait_for_bus_binds();
  auto router = make_server_socket(zmq::socket_type::router, zap_domain_control);
  router.bind(settings_.router_endpoint);
  control_ = std::make_unique<control_endpoint>(std::move(router), core_,
                                                settings_.max_message_bytes, metrics_);
  connect_peers();
  if (core_.etcd_mode()) {
    etcd_link_settings link;
    link.endpoints = settings_.etcd_endpoints;
    link.prefix = settings_.etcd_prefix;
    link.holder = core_.client_id();
    link.lease_ttl_s = settings_.etcd_lease_ttl_s;
    link.broker_key = broker_record_key(settings_);  // so that late brokers find this one
    link.broker_record = broker_record(settings_, core_.started_ms()).dump();
    etcd_ = std::make_unique<etcd_link>(ctx_, std::move(link));
    core_.set_etcd_sink([this](nlohmann::json c) { etcd_->send(c); });
  }
  core_.set_stats_source([this] {
    auto j = counters_.to_json();
    j.update(control_->counters());
    return j;
  });
}

void hub::run(common::actor& thread) {
  publish(core_.startup(common::now_ms()));
  auto next_tick = steady::now() + tick_every;
  for (;;) {
    common::poll_set ps;  // rebuilt each turn: a re-bind replaces the bus sockets
    auto stop = ps.add_fd(thread.wake_fd());
    auto zap = ps.add(zap_);
    auto control = ps.add(control_->socket());
    ps.add(xsub_);  // wakes the loop; read below whether the poll saw input or not
    auto xpub = ps.add(xpub_);
    auto syncer = ps.add_fd(control_->syncer_fd());
    auto peers = ps.add(peers_);  // null without peers: never ready
    auto etcd = etcd_ ? ps.add(etcd_->events()) : common::poll_set::slot{};
    auto xsub_monitor = ps.add(xsub_monitor_->socket());
    auto xpub_monitor = ps.add(xpub_monitor_->socket());
    auto wake = next_tick;
    bool binds_pending = !xsub_bound_ || !xpub_bound_;
    if (binds_pending) wake = std::min(wake, steady::now() + bind_retry);
    ps.poll(std::chrono::duration_cast<std::chrono::milliseconds>(wake - steady::now()));
    if (binds_pending) bind_bus_sockets();
    if (ps.ready(stop)) thread.wake().drain();
    if (thread.stop_requested()) break;
    if (ps.ready(zap)) handle_zap();
    if (ps.ready(syncer)) control_->handle_sync_completions();
    if (ps.ready(control) && control_->handle_requests()) rebind_needed_ = true;
    if (ps.ready(etcd)) drain_etcd();
    if (ps.ready(xsub_monitor)) xsub_monitor_->drain();
    if (ps.ready(xpub_monitor)) xpub_monitor_->drain();
    if (rebind_needed_) {
      // A key was cut off: no message is read from the old sockets after this point.
      rebind_needed_ = false;
      ++counters_.bus_rebinds;
      make_bus_sockets();
      DM_LOG(info) << "bus sockets re-bound: every client re-authenticates";
      continue;
    }
    // Liveness counts only time in which the hub had read all its bus input (caught_up_ms_).
    // Asked of the socket now, not of the poll: zmq_poll reads the XSUB's state before the
    // XPUB's, and the XPUB can keep the poll for seconds (libzmq walks its whole subscription
    // trie for each subscriber that disconnects), so "not ready" may be seconds old. Heartbeats
    // queued meanwhile made live hosts look silent: 1,399 of 4,900 marked down at 5,000 agents
    // after 100 were killed.
    if (forward_batch()) caught_up_ms_ = common::now_ms();
    if (ps.ready(xpub)) drain_subscriptions();
    if (ps.ready(peers)) drain_peers();
    if (steady::now() >= next_tick) {
      if (etcd_) control_->handle_sync_completions();  // etcd_wait_ms deadlines
      note_lag();
      publish(core_.tick(common::now_ms(), caught_up_ms_));
      metrics_.sync(counters_, core_, common::now_ms());
      next_tick = steady::now() + tick_every;
      log_summary();
    }
  }
  core_.flush(common::now_ms(), true);
}

void hub::log_summary() {
  // One line a minute when something happened, for operators without a metrics system.
  auto now = steady::now();
  if (now - last_summary_ < std::chrono::seconds(60)) return;
  last_summary_ = now;
  auto dropped = counters_.dropped[0] + counters_.dropped[1];
  if (counters_.forwarded == summary_forwarded_ && dropped == summary_dropped_) return;
  DM_LOG(info) << "forwarded " << counters_.forwarded - summary_forwarded_ << " and dropped "
               << dropped - summary_dropped_ << " message(s) in the last minute ("
               << counters_.dropped[static_cast<int>(drop_reason::acl)] << " ACL and "
               << counters_.dropped[static_cast<int>(drop_reason::malformed)]
               << " malformed drops since start)";
  summary_forwarded_ = counters_.forwarded;
  summary_dropped_ = dropped;
}

bool hub::forward_batch() {
  for (int i = 0; i < forward_batch_size; ++i)
    if (!forward_one()) return true;
  return false;  // more may be waiting
}

void hub::note_lag() {
  // Said once per episode: from the first tick 1 s behind to the first caught-up tick after it.
  std::int64_t behind = common::now_ms() - caught_up_ms_;
  if (behind >= 1000 && !lagging_) {
    lagging_ = true;
    DM_LOG(warn) << "the hub is " << behind << " ms behind its bus input (short of CPU?); hosts "
                 << "are not marked down for time it spends behind";
  } else if (behind < tick_every.count() && lagging_) {
    lagging_ = false;
    DM_LOG(info) << "the hub has caught up with its bus input";
  }
}

const identity& hub::sender_of(const zmq::message_t& frame) {
  const char* uid = zmq_msg_gets(frame.handle(), "User-Id");
  if (!uid) uid = "";
  if (std::strcmp(uid, cached_user_id_.c_str()) != 0) {
    cached_user_id_ = uid;
    cached_identity_ = parse_user_id(cached_user_id_);
  }
  return cached_identity_;
}

bool hub::forward_one() {
  zmq::message_t topic;
  if (!xsub_.recv(topic, zmq::recv_flags::dontwait)) return false;
  if (!topic.more()) {
    drop(drop_reason::malformed, sender_of(topic), view(topic), "single-frame message");
    return true;
  }
  zmq::message_t body;
  if (!xsub_.recv(body, zmq::recv_flags::none)) return true;
  const identity& who = sender_of(topic);
  if (body.more()) {
    drain_rest(xsub_, body);
    drop(drop_reason::malformed, who, view(topic), "more than two frames");
    return true;
  }
  topic_view t;
  acl_decision d =
      classify_topic(view(topic), t) ? check_publish(who, t) : acl_decision::malformed_topic;
  if (d != acl_decision::allow) {
    ++counters_.acl[static_cast<int>(d)];
    drop(drop_reason::acl, who, view(topic), to_string(d));
    return true;
  }
  ++counters_.acl[0];  // allowed
  if (t.kind == topic_kind::rep && who.who == role::agent && !reply_allowed(body, who, view(topic)))
    return true;
  if (t.kind == topic_kind::req_all) {
    // Decoded for the audit log only; an undecodable request is still the agents' to refuse.
    // (req/host/ requests are decoded once, in inspect(), for the audit log and the fail-fast
    // gate.)
    common::decode_limits limits;
    limits.max_bytes = settings_.max_message_bytes;
    if (auto env = common::decode(view(body), limits)) audit_request(topic, who, t, *env);
  }
  bool forward = true;
  if (t.kind == topic_kind::ann || t.kind == topic_kind::req_any ||
      t.kind == topic_kind::req_host ||
      (t.kind == topic_kind::rep && view(topic) == own_reply_topic_))
    inspect(topic, t, body, who, forward);
  if (t.kind == topic_kind::rep && forward && core_.tracking_requests() &&
      body.size() <= 64 * 1024) {
    // Small replies only: a large one (logs) is not worth decoding on the forwarding path.
    auto rep = common::decode(view(body));
    if (rep && rep->is_reply()) core_.reply_seen(rep->re);
  }
  if (!forward) return true;
  xpub_.send(stamped(view(topic), cached_user_id_),
             zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  xpub_.send(body, zmq::send_flags::dontwait);
  ++counters_.forwarded;
  return true;
}

void hub::inspect(const zmq::message_t& topic_frame, const topic_view& t, zmq::message_t& body,
                  const identity& who, bool& forward) {
  common::decode_limits limits;
  limits.max_bytes = settings_.max_message_bytes;
  auto env = common::decode(view(body), limits);
  // Every branch a string_view: a mixed conditional would be a temporary std::string copy of
  // own_reply_topic_, destroyed at the end of this statement while `topic` still points into it.
  std::string_view topic = t.kind == topic_kind::ann        ? std::string_view("ann/")
                           : t.kind == topic_kind::req_any  ? std::string_view("req/any/")
                           : t.kind == topic_kind::req_host ? std::string_view("req/host/")
                                                            : std::string_view(own_reply_topic_);
  if (!env) {
    forward = false;
    drop(drop_reason::malformed, who, topic, env.err().message);
    return;
  }
  auto now = common::now_ms();
  if (t.kind == topic_kind::ann) {
    auto d = check_announcement(who, *env);
    if (d != acl_decision::allow) {
      forward = false;
      ++counters_.acl[static_cast<int>(d)];
      drop(drop_reason::acl, who, topic, to_string(d));
      return;
    }
    publish(core_.on_announcement(*env, now));
  } else if (t.kind == topic_kind::req_host) {
    audit_request(topic_frame, who, t, *env);
    // Decided on the in-memory directory only (no I/O): a refusal is published right here.
    publish(core_.on_targeted_request(t.name, *env, now, forward));
  } else if (t.kind == topic_kind::req_any) {
    if (env->is_reply() || env->action.empty()) {
      forward = false;
      drop(drop_reason::malformed, who, topic, "not a request");
      return;
    }
    audit_request(topic_frame, who, t, *env);
    if (core_.is_leader(now)) {
      auto started = steady::now();
      auto out = core_.on_shared_request(*env, now);
      metrics_.scheduled(std::chrono::duration<double>(steady::now() - started).count());
      publish(out);
    } else {
      core_.on_unscheduled_request(*env, now);
    }
  } else {
    forward = false;  // a reply to the broker itself
    publish(core_.on_own_reply(*env, now));
  }
}

void hub::drop(drop_reason why, const identity& who, std::string_view topic,
               std::string_view detail) {
  int i = static_cast<int>(why);
  ++counters_.dropped[i];
  auto now = common::now_ms();
  if (now - last_drop_log_[i] < 1000) {
    ++suppressed_[i];
    return;
  }
  DM_LOG(warn) << "dropped message (" << drop_name(why) << ": " << detail << ") from '"
               << who.user_id() << "' on '" << topic.substr(0, 80) << "'"
               << (suppressed_[i] ? " (+" + std::to_string(suppressed_[i]) + " similar not logged)"
                                  : std::string());
  last_drop_log_[i] = now;
  suppressed_[i] = 0;
}

void hub::drain_peers() {
  zmq::message_t topic, body;
  while (peers_.recv(topic, zmq::recv_flags::dontwait)) {
    if (!topic.more()) continue;
    if (!peers_.recv(body, zmq::recv_flags::none)) return;
    if (body.more()) {
      drain_rest(peers_, body);
      continue;
    }
    // The peer's own messages only (we subscribe to dir/).
    if (common::split_stamp(view(topic)).second != common::broker_stamp) continue;
    auto env = common::decode(view(body));
    if (env) core_.heard_peer(*env, common::now_ms());
  }
}

void hub::drain_etcd() {
  for (int n = 0; n < 256; ++n) {
    auto ev = etcd_->receive();
    if (!ev) return;
    auto o = core_.on_etcd_event(*ev, common::now_ms());
    publish(o.out);
    if (o.cut_off) rebind_needed_ = true;
  }
  control_->handle_sync_completions();  // replies that waited for etcd
}

void hub::publish(const publications& out) {
  for (const auto& p : out) {
    if (p.env.is_reply()) core_.audit().on_reply(p.env.re, p.env.code);
    std::string bytes = common::encode(p.env);
    xpub_.send(stamped(p.topic, common::broker_stamp),
               zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    xpub_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    ++counters_.published;
  }
}

}  // namespace dockmesh::broker
