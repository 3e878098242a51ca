// broker_core's etcd side (declared in broker_core.hpp): the sink that mirrors key changes and
// placements to etcd, and what etcd_link reports back. Hub thread.
#include "broker/broker_core.hpp"

#include <map>

#include "common/log.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::broker {

using nlohmann::json;

json ha_view::to_json(std::int64_t now_ms) const {
  return {{"etcd_ok", etcd_ok},
          {"leader", leader && now_ms < valid_until},
          {"epoch", epoch},
          {"leader_id", holder},
          {"etcd_endpoint", endpoint},
          {"etcd_error", error},
          {"scheduling", leader && now_ms < valid_until},
          {"keys_revision", keys_revision}};
}

bool broker_core::is_leader(std::int64_t now_ms) const {
  if (!etcd_mode()) return peers_.is_leader(now_ms);
  // valid_until is checked here, at the moment of use: a broker that was frozen past its lease
  // does not schedule even before etcd_link tells it that it lost.
  return ha_.leader && now_ms < ha_.valid_until;
}

void broker_core::on_unscheduled_request(const common::envelope& env, std::int64_t now_ms) {
  if (etcd_mode() && !ha_.etcd_ok && env.action == common::protocol::names::create_container)
    unscheduled_.hold(env, ha_.error.empty() ? "no answer yet" : ha_.error, now_ms);
}

std::optional<bool> broker_core::etcd_settled(std::uint64_t ticket) const {
  if (ticket > etcd_acked_through_) return std::nullopt;
  return etcd_failed_.count(ticket) == 0;
}

std::string broker_core::etcd_conflict(std::uint64_t ticket) const {
  auto it = etcd_failed_.find(ticket);
  return it == etcd_failed_.end() ? std::string() : it->second;
}

// Another broker's record won the name in etcd: this broker's (answered 409) goes.
void broker_core::withdraw_record(const std::string& key, const std::string& holder) {
  auto kind = record_kind_of(key);
  if (!kind) return;
  services_.withdraw(*kind, key.substr(2));
  DM_LOG(info) << "etcd: record " << key << " withdrawn, its name belongs to " << holder;
}

void broker_core::set_etcd_sink(std::function<void(json)> sink) {
  etcd_sink_ = [this, sink = std::move(sink)](json c) {
    c["ticket"] = etcd_unclaimed_ = ++etcd_next_ticket_;
    sink(std::move(c));
  };
  keys_.set_mirror(
      [this](const key_entry& e, key_write how) { etcd_sink_(etcd_key_command(e, how)); });
  dispatcher_.set_commit([this](const std::string& id, const json& record, bool probe) {
    etcd_sink_({{"op", "place"}, {"id", id}, {"record", record}, {"probe", probe}});
  });
  tokens_.set_publish([this](const std::string& hash, std::int64_t ttl_seconds) {
    etcd_sink_({{"op", "put-token"}, {"hash", hash}, {"ttl_seconds", ttl_seconds}});
  });
  control_.set_spend_in_etcd([this](const std::string& hash, const key_entry& accepted) {
    etcd_sink_({{"op", "enroll"},
                {"hash", hash},
                {"public_key", accepted.public_key},
                {"record", accepted.to_json()}});
  });
  // Project and service records: written to etcd after the local write; every broker (this one
  // too) applies them from its watch, so a write answered by any broker reaches them all.
  // A project or service name is unique by an etcd transaction (the name's claim is written
  // with the record); the loser of a race is answered 409 and its record withdrawn.
  services_.set_mirror(
      [this](record_kind kind, const std::string& id, const json* record, const std::string& name) {
        json c = {{"op", record ? "put-record" : "delete-record"}, {"key", record_key(kind, id)}};
        if (record) c["record"] = *record;
        if (!name.empty()) c.update({{"name", name}, {"holder", id}});
        etcd_sink_(std::move(c));
      });
  // Seed etcd with what this broker was started with (--authorized-keys): an acceptance that
  // replaces a pending note there, never a decision, so a key revoked elsewhere stays revoked.
  keys_.seed_mirror();
}

std::string broker_core::record_key(record_kind kind, const std::string& id) {
  return std::string(record_prefix(kind)) + id;
}

// {"key": "p/<id>" | "s/<id>" | "h/<fqdn>" | "q/<user>" | "t/<team>", "record": {...} | null} from
// the records watcher.
void broker_core::apply_record(const json& entry) {
  std::string key = entry.value("key", "");
  auto kind = record_kind_of(key);
  if (!kind) return;
  const json& record = entry.contains("record") ? entry["record"] : json();
  if (*kind == record_kind::host_policy) fleet_.invalidate(key.substr(2));
  if (!services_.apply_remote(*kind, key.substr(2), record.is_null() ? nullptr : &record)) {
    DM_LOG(warn) << "etcd record " << key << " not applied (malformed or not stored)";
  }
}

// etcd holds every record: one it lacks was deleted while this broker was not watching (or
// was never written there: etcd did not take it, and it is dropped as a key change would be).
void broker_core::apply_snapshot(const json& records) {
  std::map<record_kind, std::set<std::string>> held;
  for (const auto& r : records) {
    apply_record(r);
    std::string key = r.value("key", "");
    if (auto kind = record_kind_of(key)) held[*kind].insert(key.substr(2));
  }
  for (auto kind : all_record_kinds) services_.keep_only(kind, held[kind]);
  fleet_.invalidate_all();
}

etcd_outcome broker_core::on_etcd_event(const json& ev, std::int64_t now_ms) {
  etcd_outcome o;
  std::string kind = ev.value("ev", "");
  if (kind == "leader") {
    bool was = is_leader(now_ms);
    bool was_ok = ha_.etcd_ok;
    ha_.etcd_ok = ev.value("etcd_ok", false);
    ha_.leader = ev.value("leader", false);
    ha_.epoch = ev.value("epoch", std::int64_t{0});
    ha_.valid_until = ev.value("valid_until", std::int64_t{0});
    ha_.holder = ev.value("holder", "");
    ha_.endpoint = ev.value("endpoint", "");
    ha_.error = ev.value("error", "");
    if (ha_.leader) dispatcher_.set_epoch(ha_.epoch);
    if (was != is_leader(now_ms) || was_ok != ha_.etcd_ok) {
      DM_LOG(info) << "etcd " << (ha_.etcd_ok ? "reachable" : "unreachable: " + ha_.error)
                   << "; scheduling leader " << (ha_.holder.empty() ? "none" : ha_.holder)
                   << " epoch " << ha_.epoch << (is_leader(now_ms) ? " (this broker)" : "");
    }
  } else if (kind == "keys-snapshot") {
    ha_.keys_revision = ev.value("revision", std::int64_t{0});
    for (const auto& r : ev.value("keys", json::array()))
      o.cut_off |= keys_.apply_remote(r.value("record", json::object()),
                                      r.value("mod_revision", std::int64_t{0}));
  } else if (kind == "key") {
    o.cut_off = keys_.apply_remote(ev.value("record", json::object()),
                                   ev.value("mod_revision", std::int64_t{0}));
  } else if (kind == "records-snapshot") {
    apply_snapshot(ev.value("records", json::array()));
    records_loaded_ = true;
  } else if (kind == "record") {
    apply_record(ev);
  } else if (kind == "placed") {
    etcd_acked_through_ = std::max(etcd_acked_through_, ev.value("ticket", std::uint64_t{0}));
    for (auto& p :
         dispatcher_.on_placed(ev.value("id", ""), ev.value("ok", false),
                               ev.value("record", json::object()), ev.value("error", ""), now_ms))
      deliver(std::move(p), now_ms, o.out);
  } else if (kind == "ack") {
    auto ticket = ev.value("ticket", std::uint64_t{0});
    etcd_acked_through_ = std::max(etcd_acked_through_, ticket);
    if (!ev.value("ok", false)) {
      etcd_failed_[ticket] = ev.value("conflict", "");
      if (ev.contains("public_key")) keys_.etcd_missed(ev.value("public_key", ""));
      if (etcd_failed_.size() > 1024) etcd_failed_.erase(etcd_failed_.begin());
      if (ev.contains("conflict")) {
        withdraw_record(ev.value("key", ""), ev.value("conflict", ""));
      } else {
        DM_LOG(warn) << "etcd did not take a change (" << ev.value("error", "")
                     << "); it holds locally until the next snapshot";
      }
    }
  }
  return o;
}

}  // namespace dockmesh::broker
