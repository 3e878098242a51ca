// The hub's access decisions (hub.hpp): ZAP answers, subscribe ACLs on the XPUB side, the
// sender checks of agent replies, and what the audit log learns from forwarded requests.
// Hub thread only.
#include "broker/hub.hpp"

#include "common/bus_identity.hpp"
#include "common/log.hpp"

namespace dockmesh::broker {
namespace {

using common::topic_kind;

std::string_view view(const zmq::message_t& m) {
  return {m.data<char>(), m.size()};
}

void drain_rest(zmq::socket_t& s, zmq::message_t& last) {
  while (last.more())
    if (!s.recv(last, zmq::recv_flags::none)) break;
}

}  // namespace

void hub::audit_request(const zmq::message_t& topic, const identity& who, const topic_view& t,
                        const common::envelope& req) {
  if (!audit_log::is_state_changing(req.action) || req.is_reply()) return;
  const char* key = zmq_msg_gets(topic.handle(), public_key_property);
  const char* peer = zmq_msg_gets(topic.handle(), "Peer-Address");
  auto e = audit_caller(who.user_id(), key ? key : "", peer ? peer : "");
  std::string host = t.kind == topic_kind::req_host  ? std::string(t.name)
                     : t.kind == topic_kind::req_any ? "any"
                                                     : "all";
  core_.audit().on_request(std::move(e), std::move(host), req, common::now_ms());
}

bool hub::reply_allowed(zmq::message_t& body, const identity& who, std::string_view topic) {
  common::decode_limits limits;
  limits.max_bytes = settings_.max_message_bytes;
  auto peek = common::peek_envelope(view(body), limits);
  if (!peek) {
    drop(drop_reason::malformed, who, topic, "reply is not a msgpack map");
    return false;
  }
  acl_decision d = check_reply_sender(who, peek->from);
  // A reply to a request this broker placed must come from the host it was placed on.
  if (d == acl_decision::allow && !core_.reply_from_placed_host(peek->re, who.name))
    d = acl_decision::forged_sender;
  if (d == acl_decision::allow) {
    core_.audit().on_reply(peek->re, peek->code, common::now_ms(), peek->action);
    return true;
  }
  ++counters_.acl[static_cast<int>(d)];
  drop(drop_reason::acl, who, topic, to_string(d));
  return false;
}

void hub::drain_subscriptions() {
  // The XSUB side already takes everything, so nothing is passed upstream: a subscription is
  // only applied to (or refused for) the XPUB pipe it came from.
  zmq::message_t m;
  while (xpub_.recv(m, zmq::recv_flags::dontwait)) {
    if (!m.more()) decide_subscription(m);
    drain_rest(xpub_, m);
  }
}

void hub::decide_subscription(zmq::message_t& m) {
  if (m.size() == 0) return;
  std::string_view prefix = view(m).substr(1);
  bool subscribe = m.data<char>()[0] == 1;
  // Without a User-Id the message was made by libzmq for a pipe that closed: that pipe's
  // subscriptions are gone already, and applying it would touch the previous subscriber's.
  const char* uid = zmq_msg_gets(m.handle(), "User-Id");
  if (!uid) return;
  if (!subscribe) {
    // Removing what was never applied is a no-op; an unsubscribe is never refused.
    xpub_.set(zmq::sockopt::unsubscribe, prefix);
    return;
  }
  identity who = parse_user_id(uid);
  const char* key = zmq_msg_gets(m.handle(), public_key_property);
  acl_decision d = check_subscribe(who, key ? key : "", prefix);
  if (d == acl_decision::allow) {
    xpub_.set(zmq::sockopt::subscribe, prefix);
    ++counters_.subscriptions;
    return;
  }
  ++counters_.subscriptions_refused;
  ++counters_.acl[static_cast<int>(d)];
  drop(drop_reason::subscription, who,
       prefix.empty() ? std::string_view("\"\" (everything)") : prefix, to_string(d));
}

// Each connection costs the broker a file descriptor and about 50 KB (libzmq's pipes and
// buffers, CURVE state): past --max-connections a handshake is refused (the connection, already
// accepted, is counted) so that memory stays bounded and RocksDB can always open its files.
bool hub::bus_full() {
  xsub_monitor_->drain();
  xpub_monitor_->drain();
  int open = xsub_monitor_->open() + xpub_monitor_->open();
  if (open <= max_connections_) return false;
  auto now = common::now_ms();
  if (now - last_full_log_ms_ >= 10000) {
    DM_LOG(warn) << open << " bus connections open: refusing new ones past --max-connections "
                 << max_connections_ << " until some close (clients retry)";
    last_full_log_ms_ = now;
  }
  ++counters_.refused_full;
  return true;
}

void hub::handle_zap() {
  for (;;) {
    std::vector<zmq::message_t> frames;
    zmq::message_t m;
    if (!zap_.recv(m, zmq::recv_flags::dontwait)) return;
    frames.push_back(std::move(m));
    while (frames.back().more() && frames.size() < 16) {
      zmq::message_t next;
      if (!zap_.recv(next, zmq::recv_flags::none)) break;
      frames.push_back(std::move(next));
    }
    drain_rest(zap_, frames.back());
    std::vector<std::string_view> views;
    for (const auto& f : frames) views.push_back(view(f));
    auto req = parse_zap_request(views);
    zap_answer a;
    bool full = req && req->domain == zap_domain_bus && bus_full();
    if (full)
      a.reason = "the broker is at its connection limit (--max-connections " +
                 std::to_string(max_connections_) + "): retry later";
    else if (req)
      a = core_.zap().decide(*req, common::now_ms());
    else
      a.reason = req.err().message;
    metrics_.zap_result(req ? std::string_view(req->domain) : std::string_view(), a.ok);
    if (!a.ok && req) {
      DM_LOG(debug) << "ZAP refused " << req->public_key.substr(0, 8) << "... on " << req->domain
                    << " from " << req->address << ": " << a.reason;
    }
    std::string request_id = views.size() > 1 ? std::string(views[1]) : std::string();
    std::string metadata = a.ok ? encode_zap_metadata(a.public_key) : std::string();
    // A REP socket must answer every request, even one it could not parse.
    zap_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
    zap_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    // 400: the key is refused, and the client stays out. A full broker answers 500: libzmq 4.3
    // sends both as an ERROR and closes the connection at once (its fd is free again), and
    // bus_client connects again after a pause on 500 only. (300, "temporary", would leave the
    // connection open until a handshake timeout.)
    zap_.send(zmq::buffer(std::string_view(a.ok           ? "200"
                                           : full || !req ? "500"
                                                          : "400")),
              zmq::send_flags::sndmore);
    zap_.send(zmq::buffer(a.reason), zmq::send_flags::sndmore);
    zap_.send(zmq::buffer(a.user_id), zmq::send_flags::sndmore);
    zap_.send(zmq::buffer(metadata), zmq::send_flags::none);
  }
}

}  // namespace dockmesh::broker
