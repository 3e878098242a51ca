#include "broker/etcd_link.hpp"

#include <curl/curl.h>

#include <chrono>

#include "common/envelope.hpp"
#include "common/log.hpp"

namespace dockmesh::broker {
namespace {

using nlohmann::json;
using steady = std::chrono::steady_clock;

// Clocks and lease expiry are not exact: a leader stops acting this long before its lease could
// have expired at etcd.
constexpr std::int64_t lease_margin_ms = 250;
constexpr std::int64_t placement_ttl_s = 900;  // placements outlive the dispatcher's 10 min cache

zmq::socket_t connected(zmq::context_t& ctx, zmq::socket_type type, const std::string& endpoint) {
  zmq::socket_t s(ctx, type);
  s.set(zmq::sockopt::linger, 0);
  s.connect(endpoint);
  return s;
}

// A value read from etcd; one that is not JSON (written by hand, or damaged) becomes an empty
// object, which the hub refuses with a warning: a discarded value would make the whole event,
// a snapshot with it, unreadable.
json parsed(const std::string& value) {
  auto j = json::parse(value, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

void emit(zmq::socket_t& out, const json& event) {
  std::string text = event.dump();
  (void)out.send(zmq::buffer(text), zmq::send_flags::dontwait);
}

// The election state of one broker: its lease and what it last learnt about the leader key.
class campaign {
 public:
  campaign(etcd_client& client, const etcd_link_settings& s) : client_(client), s_(s) {}

  json round() {
    auto started = common::now_ms();
    std::string error;
    if (!lease_) grant(error);
    if (lease_ && error.empty()) keep_alive(started, error);
    if (lease_ && error.empty()) enlist(error);
    if (lease_ && error.empty()) contend(error);
    bool ok = error.empty();
    if (ok != healthy_) {
      if (ok) {
        DM_LOG(info) << "etcd reachable at " << client_.endpoint();
      } else {
        DM_LOG(warn) << "etcd unreachable (" << error << "): not scheduling; keys as last known";
      }
      healthy_ = ok;
    }
    if (!ok) leader_ = false;
    return {{"ev", "leader"},    {"etcd_ok", ok},
            {"error", error},    {"leader", leader_},
            {"epoch", epoch_},   {"valid_until", ok ? valid_until_ : 0},
            {"holder", holder_}, {"endpoint", client_.endpoint()}};
  }

  void resign() {
    if (lease_) (void)client_.lease_revoke(lease_);
    lease_ = 0;
  }

 private:
  void grant(std::string& error) {
    auto l = client_.lease_grant(s_.lease_ttl_s);
    if (!l) return void(error = l.err().message);
    lease_ = l->id;
    ttl_ms_ = l->ttl_seconds * 1000;
  }

  void keep_alive(std::int64_t sent_ms, std::string& error) {
    auto k = client_.lease_keepalive(lease_);
    if (!k) return void(error = k.err().message);
    if (k->ttl_seconds <= 0) {  // expired (we were frozen or cut off): campaign again
      if (leader_) {
        DM_LOG(warn) << "leader lease expired: no longer scheduling";
      }
      lease_ = 0;
      leader_ = false;
      return;
    }
    valid_until_ = sent_ms + k->ttl_seconds * 1000 - lease_margin_ms;
  }

  // brokers/<id> on the current lease: a new lease (first round, or after expiry) needs it again.
  void enlist(std::string& error) {
    if (s_.broker_key.empty() || enlisted_lease_ == lease_) return;
    auto p = client_.put(s_.broker_key, s_.broker_record, lease_);
    if (!p) return void(error = p.err().message);
    enlisted_lease_ = lease_;
    DM_LOG(info) << "recorded in etcd as " << s_.broker_key;
  }

  void contend(std::string& error) {
    json me = {{"holder", s_.holder}};
    auto t = client_.create_if_absent(s_.prefix + "leader", me.dump(), lease_);
    if (!t) return void(error = t.err().message);
    if (t->succeeded) {
      leader_ = true;
      epoch_ = t->revision;
      holder_ = s_.holder;
      DM_LOG(info) << "elected scheduling leader, epoch " << epoch_;
      return;
    }
    if (t->kvs.empty()) return void(leader_ = false);  // deleted meanwhile: next round
    const etcd_kv& kv = t->kvs.front();
    bool mine = kv.lease == lease_;
    if (leader_ && !mine) {
      DM_LOG(warn) << "lost scheduling leadership";
    }
    leader_ = mine;
    epoch_ = kv.create_revision;
    auto v = json::parse(kv.value, nullptr, false);
    holder_ = v.is_object() ? v.value("holder", "") : "";
  }

  etcd_client& client_;
  const etcd_link_settings& s_;
  std::int64_t lease_ = 0;
  std::int64_t enlisted_lease_ = 0;
  std::int64_t ttl_ms_ = 0;
  std::int64_t valid_until_ = 0;
  std::int64_t epoch_ = 0;
  std::string holder_;
  bool leader_ = false;
  bool healthy_ = false;  // the first good round logs where etcd was reached
};

template <class T>
void outcome(json& out, const common::result<T>& r) {
  out["ok"] = r.ok();
  if (!r) out["error"] = r.err().message;
}

// The placement lease is shared by the placements of a few minutes and renewed every 5 min.
struct placement_lease {
  std::int64_t id = 0;
  std::int64_t granted_ms = 0;
  std::int64_t get(etcd_client& client) {
    auto now = common::now_ms();
    if (!id || now - granted_ms > placement_ttl_s * 1000 / 3) {
      if (auto l = client.lease_grant(placement_ttl_s)) {
        id = l->id;
        granted_ms = now;
      }
    }
    return id;
  }
};

json place(etcd_client& client, const etcd_link_settings& s, const json& c,
           placement_lease& lease) {
  std::string id = c.value("id", "");
  std::string key = s.prefix + "placement/" + id;
  json out = {{"ev", "placed"}, {"id", id}, {"ticket", c.value("ticket", 0)}};
  if (c.value("probe", false)) {  // this broker could not place it: only look
    auto r = client.range(key);
    out["ok"] = r.ok() && !r->kvs.empty();
    if (r && !r->kvs.empty())
      out["record"] = json::parse(r->kvs.front().value, nullptr, false);
    else
      out["error"] = r ? std::string("no placement") : r.err().message;
    return out;
  }
  auto t =
      client.create_if_absent(key, c.value("record", json::object()).dump(), lease.get(client));
  outcome(out, t);
  if (t && t->succeeded) {
    out["record"] = c.value("record", json::object());
    out["created"] = true;
  } else if (t && !t->kvs.empty()) {
    out["record"] = json::parse(t->kvs.front().value, nullptr, false);
    out["created"] = false;
  } else if (t) {
    out["ok"] = false;
    out["error"] = "placement vanished during the transaction";
  }
  return out;
}

// --authorized-keys at start: an operator's acceptance. It may replace a pending note (written
// by a broker that heard the key first), never a decision: a key revoked elsewhere stays so.
void seed_key(etcd_client& client, const std::string& key, const std::string& record, json& out) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = client.range(key);
    if (!r) return outcome(out, r);
    std::int64_t revision = r->kvs.empty() ? 0 : r->kvs.front().mod_revision;
    if (revision) {
      auto v = json::parse(r->kvs.front().value, nullptr, false);
      bool pending = v.is_object() && v.value("state", "") == "pending";
      if (!pending) return void(out.update({{"ok", true}, {"applied", false}}));
    }
    auto t = client.put_if_revision(key, record, revision);
    if (!t) return outcome(out, t);
    if (t->succeeded) return void(out.update({{"ok", true}, {"applied", true}}));
  }
  out.update({{"ok", false}, {"error", "the key's record kept changing"}});
}

// A record with a name unique in its scope ("name": services/n/...) is written only while the
// name is free or already its own (one transaction: two brokers that each took a create of the
// same name in the same instant cannot both write it). The loser's ack says who holds the name.
void put_record(etcd_client& client, const etcd_link_settings& s, const json& c,
                const std::string& record, json& out) {
  std::string at = s.prefix + "services/" + c.value("key", "");
  std::string name = c.value("name", "");
  if (name.empty()) return outcome(out, client.put(at, record));
  auto held = client.put_claimed(s.prefix + "services/" + name, c.value("holder", ""), at, record);
  if (held && !held->empty()) {
    out.update({{"ok", false},
                {"key", c.value("key", "")},
                {"conflict", *held},
                {"error", "the name is taken (by " + *held + ")"}});
    return;
  }
  outcome(out, held);
}

json run_command(etcd_client& client, const etcd_link_settings& s, const json& c,
                 placement_lease& lease) {
  std::string op = c.value("op", "");
  json out = {{"ev", "ack"}, {"op", op}, {"ticket", c.value("ticket", 0)}};
  if (c.contains("public_key")) out["public_key"] = c.value("public_key", "");
  std::string key = s.prefix + "keys/" + c.value("public_key", "");
  std::string record = c.value("record", json::object()).dump();
  std::string token = s.prefix + "tokens/" + c.value("hash", "");
  if (op == "put-key") {
    outcome(out, client.put(key, record));
  } else if (op == "note-key") {
    outcome(out, client.create_if_absent(key, record));
  } else if (op == "renote-key") {  // only over the record read: never over a decision
    outcome(out, client.put_if_revision(key, record, c.value("revision", std::int64_t{0})));
  } else if (op == "seed-key") {
    seed_key(client, key, record, out);
  } else if (op == "put-token") {  // on a lease of its lifetime: etcd forgets it when it expires
    auto l = client.lease_grant(std::max<std::int64_t>(1, c.value("ttl_seconds", 1)));
    outcome(out, l ? client.put(token, "{}", l->id) : common::result<std::int64_t>(l.err()));
  } else if (op == "enroll") {
    auto r = client.spend_and_put(token, key, record);
    outcome(out, r);
    out["spent"] = r && *r;
    DM_LOG(info) << "join token for " << c.value("record", json::object()).value("name", "?")
                 << (r && *r ? ": spent, key accepted in etcd"
                             : ": not spent (used, expired or etcd down)");
  } else if (op == "put-record") {  // a project or service record (services/<p|s>/<id>)
    put_record(client, s, c, record, out);
  } else if (op == "delete-record") {
    std::string at = s.prefix + "services/" + c.value("key", "");
    std::string name = c.value("name", "");
    if (name.empty())
      outcome(out, client.erase(at));
    else
      outcome(out, client.erase_claimed(s.prefix + "services/" + name, c.value("holder", ""), at));
  } else if (op == "place") {
    return place(client, s, c, lease);
  } else {
    out["ok"] = false;
    out["error"] = "unknown etcd command '" + op + "'";
  }
  return out;
}

}  // namespace

etcd_link::etcd_link(zmq::context_t& ctx, etcd_link_settings settings)
    : settings_(std::move(settings)),
      commands_endpoint_("inproc://dockmesh-etcd-commands-" +
                         std::to_string(reinterpret_cast<std::uintptr_t>(this))),
      events_endpoint_("inproc://dockmesh-etcd-events-" +
                       std::to_string(reinterpret_cast<std::uintptr_t>(this))),
      commands_(ctx, zmq::socket_type::push),
      events_(ctx, zmq::socket_type::pull) {
  commands_.set(zmq::sockopt::linger, 0);
  events_.set(zmq::sockopt::linger, 0);
  curl_global_init(CURL_GLOBAL_DEFAULT);  // before the two threads make their handles
  commands_.bind(commands_endpoint_);
  events_.bind(events_endpoint_);
  // The threads' sockets are connected here, before the constructor returns: a command sent at
  // once (the hub seeds its keys right away) would otherwise find no peer and be dropped. Each
  // socket then belongs to its thread alone (thread start is the memory barrier zmq asks for).
  auto actor_in = connected(ctx, zmq::socket_type::pull, commands_endpoint_);
  auto actor_out = connected(ctx, zmq::socket_type::push, events_endpoint_);
  auto watcher_out = connected(ctx, zmq::socket_type::push, events_endpoint_);
  auto records_out = connected(ctx, zmq::socket_type::push, events_endpoint_);
  actor_ = std::thread([this, in = std::move(actor_in), out = std::move(actor_out)]() mutable {
    run_actor(in, out);
  });
  watcher_ = std::thread([this, out = std::move(watcher_out)]() mutable { run_watcher(out); });
  records_watcher_ =
      std::thread([this, out = std::move(records_out)]() mutable { run_records_watcher(out); });
}

etcd_link::~etcd_link() {
  stop_ = true;
  (void)commands_.send(zmq::buffer(std::string_view("$TERM")), zmq::send_flags::dontwait);
  actor_.join();
  watcher_.join();
  records_watcher_.join();
}

std::optional<json> etcd_link::receive() {
  zmq::message_t m;
  if (!events_.recv(m, zmq::recv_flags::dontwait)) return std::nullopt;
  auto j = json::parse(m.to_string_view(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

void etcd_link::send(const json& command) {
  std::string text = command.dump();
  (void)commands_.send(zmq::buffer(text), zmq::send_flags::dontwait);
}

void etcd_link::run_actor(zmq::socket_t& in, zmq::socket_t& out) {
  etcd_client client(settings_.endpoints, std::chrono::milliseconds(300));
  campaign election(client, settings_);
  placement_lease lease;
  auto next_round = steady::now();
  while (!stop_) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_round - steady::now());
    std::vector<zmq::pollitem_t> items{{in.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, std::max(wait, std::chrono::milliseconds(0)));
    zmq::message_t m;
    while (!stop_ && in.recv(m, zmq::recv_flags::dontwait)) {
      if (m.to_string_view() == "$TERM") break;
      auto c = json::parse(m.to_string_view(), nullptr, false);
      if (c.is_object()) emit(out, run_command(client, settings_, c, lease));
    }
    if (stop_) break;
    if (steady::now() >= next_round) {
      emit(out, election.round());
      next_round = steady::now() + std::chrono::milliseconds(settings_.round_ms);
    }
  }
  election.resign();
}

void etcd_link::run_watcher(zmq::socket_t& out) {
  auto to_record = [](const etcd_kv& kv) {
    return json{{"record", parsed(kv.value)}, {"mod_revision", kv.mod_revision}};
  };
  follow(
      out, settings_.prefix + "keys/",
      [&](const etcd_range& snap) {
        json keys = json::array();
        for (const auto& kv : snap.kvs) keys.push_back(to_record(kv));
        return json{{"ev", "keys-snapshot"}, {"keys", keys}, {"revision", snap.revision}};
      },
      [&](const etcd_event& e) {
        if (e.deleted) return json();
        json ev = to_record(e.kv);
        ev["ev"] = "key";
        return ev;
      });
}

// Project and service records: the key below services/ ("p/<id>", "s/<id>") and the record, or
// null for a deletion.
void etcd_link::run_records_watcher(zmq::socket_t& out) {
  std::string prefix = settings_.prefix + "services/";
  auto entry = [&](const etcd_kv& kv, bool deleted) {
    return json{{"key", kv.key.substr(std::min(prefix.size(), kv.key.size()))},
                {"record", deleted ? json() : parsed(kv.value)}};
  };
  // A name's claim (n/...) holds a bare id, not a record: the hub has no use for it, and its
  // value, not being JSON, would make the whole event unreadable.
  std::string claims = prefix + "n/";
  auto claim = [&](const etcd_kv& kv) { return kv.key.compare(0, claims.size(), claims) == 0; };
  follow(
      out, prefix,
      [&](const etcd_range& snap) {
        json records = json::array();
        for (const auto& kv : snap.kvs)
          if (!claim(kv)) records.push_back(entry(kv, false));
        return json{{"ev", "records-snapshot"}, {"records", records}};
      },
      [&](const etcd_event& e) {
        if (claim(e.kv)) return json();
        json ev = entry(e.kv, e.deleted);
        ev["ev"] = "record";
        return ev;
      });
}

// A snapshot of `prefix`, then a watch from the snapshot's revision; after any error a new
// snapshot. Each event becomes at most one report (null: none).
void etcd_link::follow(zmq::socket_t& out, const std::string& prefix,
                       const std::function<json(const etcd_range&)>& snapshot,
                       const std::function<json(const etcd_event&)>& change) {
  etcd_client client(settings_.endpoints, std::chrono::milliseconds(300));
  while (!stop_) {
    auto snap = client.range(prefix, true);
    if (!snap) {
      for (int i = 0; i < 4 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    emit(out, snapshot(*snap));
    std::int64_t next = snap->revision + 1;
    auto on_events = [&](const std::vector<etcd_event>& events, std::int64_t revision) {
      for (const auto& e : events) {
        if (json ev = change(e); !ev.is_null()) emit(out, ev);
        next = std::max(next, e.kv.mod_revision + 1);
      }
      (void)revision;  // a header's revision may run ahead of events still to come
    };
    // Streams end every few seconds by design; only an error calls for a new snapshot.
    while (!stop_) {
      auto w = client.watch(prefix, next, on_events, stop_, std::chrono::milliseconds(5000));
      if (!w) {
        DM_LOG(debug) << "watch of " << prefix << ": " << w.err().message;
        break;
      }
    }
  }
}

}  // namespace dockmesh::broker
