#include "broker/host_directory.hpp"

#include "common/log.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

// The dir/ event that reports a host entering `s`.
std::string_view status_event(host_status s) {
  namespace n = common::protocol::names;
  switch (s) {
    case host_status::up:
      return n::host_up;
    case host_status::down:
      return n::host_down;
    case host_status::gone:
      return n::host_gone;
  }
  return n::host_updated;
}

using common::errc;
using common::make_error;
using nlohmann::json;

constexpr std::string_view host_prefix = "h/";

// Whether a heartbeat says something new: every field but `sequence` is compared.
// Both are objects with sorted keys (nlohmann's std::map), so they are walked side by side:
// one pass, no look-ups (this runs for every heartbeat of every host).
bool content_changed(const json& before, const json& after) {
  if (!before.is_object() || !after.is_object() || before.size() != after.size()) return true;
  for (auto a = after.begin(), b = before.begin(); a != after.end(); ++a, ++b) {
    if (a.key() != b.key()) return true;
    if (a.key() != "sequence" && *a != *b) return true;
  }
  return false;
}

json stored_form(const host_entry& h) {
  return {{"record", h.record},
          {"record_version", h.record_version.to_json()},
          {"presence_version", h.presence_version.to_json()},
          {"unregistered", h.unregistered},
          {"status", std::string(to_string(h.status))},
          {"reason", h.reason},
          {"first_seen", h.first_seen},
          {"last_seen", h.last_seen},
          {"status_since", h.status_since}};
}

}  // namespace

std::string_view to_string(host_status s) {
  switch (s) {
    case host_status::up:
      return "up";
    case host_status::down:
      return "down";
    case host_status::gone:
      return "gone";
  }
  return "?";
}

std::optional<host_status> parse_host_status(std::string_view s) {
  if (s == "up") return host_status::up;
  if (s == "down") return host_status::down;
  if (s == "gone") return host_status::gone;
  return std::nullopt;
}

bool host_entry::docker_up() const {
  auto it = record.find("docker_up");
  // Absent means the agent did not say; only an explicit false marks Docker as down.
  return it == record.end() || !it->is_boolean() || it->get<bool>();
}

json host_entry::to_json() const {
  json j = record.is_object() ? record : json::object();
  j["fqdn"] = fqdn;
  j["status"] = std::string(broker::to_string(status));
  j["first_seen"] = first_seen;
  j["last_seen"] = last_seen;
  j["status_since"] = status_since;
  if (!reason.empty()) j["reason"] = reason;
  return j;
}

bool host_entry::has_label(std::string_view key, std::string_view value) const {
  auto labels = record.find("labels");
  if (labels == record.end() || !labels->is_object()) return false;
  auto it = labels->find(key);
  return it != labels->end() && it->is_string() && it->get_ref<const std::string&>() == value;
}

void host_directory::set_status(host_entry& h, host_status s, std::string reason,
                                std::int64_t now_ms, directory_events& out) {
  h.status = s;
  h.reason = std::move(reason);
  h.status_since = now_ms;
  if (s == host_status::down)
    down_.insert(&h);
  else
    down_.erase(&h);
  out.push_back({std::string(status_event(s)), h.to_json()});
  if (s != host_status::up)
    DM_LOG(info) << "host " << h.fqdn << " is " << to_string(s) << " (" << h.reason << ")";
  else
    DM_LOG(info) << "host " << h.fqdn << " is up";
}

common::result<directory_events> host_directory::apply(std::string_view action, const json& body,
                                                       std::int64_t now_ms) {
  if (!body.is_object())
    return make_error(errc::invalid_argument, "announcement body must be a map");
  auto v = version_stamp::of_announcement(body);
  auto f = body.find("fqdn");
  if (!v || f == body.end() || !f->is_string() ||
      !common::valid_segment(f->get_ref<const std::string&>()))
    return make_error(errc::invalid_argument, "announcement needs fqdn, incarnation and sequence");
  const std::string& fqdn = f->get_ref<const std::string&>();
  bool fresh = false;
  host_entry& h = entry(fqdn, fresh);
  directory_events out;
  bool is_record = action != common::protocol::names::unregister;
  bool applied = false;
  if (is_record && *v > h.record_version) {
    if (!fresh && h.status == host_status::up && content_changed(h.record, body))
      out.push_back({std::string(common::protocol::names::host_updated),
                     json()});  // body filled below, once the entry is current
    h.record = body;
    h.record_version = *v;
    applied = true;
  }
  if (*v > h.presence_version) {
    h.presence_version = *v;
    h.unregistered = !is_record;
    applied = true;
  }
  if (!applied) return out;  // older than what we hold: last writer already won
  if (fresh) {
    h.fqdn = fqdn;
    h.first_seen = now_ms;
  }
  h.last_seen = std::max(h.last_seen, now_ms);
  h.last_heard = now_ms;
  heard_.emplace_back(&h, now_ms);
  for (auto& e : out) e.body = h.to_json();
  if (h.unregistered && (fresh || h.status == host_status::up))
    set_status(h, host_status::down, "unregistered", now_ms, out);
  else if (!h.unregistered && (fresh || h.status != host_status::up))
    set_status(h, host_status::up, {}, now_ms, out);
  if (!out.empty()) {
    dirty_.insert(fqdn);
  } else if (!h.stale) {
    h.stale = true;
    stale_.push_back(&h);
  }
  return out;
}

host_entry& host_directory::entry(const std::string& fqdn, bool& fresh) {
  auto found = index_.find(fqdn);
  fresh = found == index_.end();
  if (!fresh) return *found->second;
  auto it = hosts_.try_emplace(fqdn).first;
  index_.emplace(it->first, &it->second);
  return it->second;
}

directory_events host_directory::tick(std::int64_t now_ms,
                                      std::optional<std::int64_t> heard_until_ms) {
  directory_events out;
  const std::int64_t until = std::min(now_ms, heard_until_ms.value_or(now_ms));
  while (!heard_.empty() && until - heard_.front().second > timing_.down_after_ms) {
    auto [h, at] = heard_.front();
    heard_.pop_front();
    if (h->status != host_status::up || h->last_heard != at) continue;  // heard since, or not up
    set_status(*h, host_status::down, "missed heartbeats", now_ms, out);
    dirty_.insert(h->fqdn);
  }
  std::vector<host_entry*> expired;
  for (host_entry* h : down_)
    if (now_ms - h->status_since > timing_.gone_after_ms) expired.push_back(h);
  for (host_entry* h : expired) {
    set_status(*h, host_status::gone, "down for longer than the retention", now_ms, out);
    dirty_.insert(h->fqdn);
  }
  return out;
}

const host_entry* host_directory::find(std::string_view fqdn) const {
  auto it = index_.find(fqdn);
  return it == index_.end() ? nullptr : it->second;
}

json host_directory::list(std::optional<host_status> status, std::string_view label_key,
                          std::string_view label_value) const {
  json out = json::array();
  for (const auto& [fqdn, h] : hosts_) {
    if (status && h.status != *status) continue;
    if (!label_key.empty() && !h.has_label(label_key, label_value)) continue;
    out.push_back(h.to_json());
  }
  return out;
}

void host_directory::load(const state_db& db, std::int64_t now_ms) {
  db.for_each(host_prefix, [&](std::string_view key, const json& v) {
    std::string fqdn(key.substr(host_prefix.size()));
    auto status = parse_host_status(v.value("status", ""));
    if (!v.is_object() || !status || !common::valid_segment(fqdn)) return;
    host_entry h;
    h.fqdn = fqdn;
    h.record = v.value("record", json::object());
    h.record_version = version_stamp::from_json(v.value("record_version", json()));
    h.presence_version = version_stamp::from_json(v.value("presence_version", json()));
    h.unregistered = v.value("unregistered", false);
    h.status = *status;
    h.reason = v.value("reason", "");
    h.first_seen = v.value("first_seen", std::int64_t{0});
    h.last_seen = v.value("last_seen", std::int64_t{0});
    h.status_since = v.value("status_since", std::int64_t{0});
    // Hosts get a full down_after_ms from our start to be heard again, so a broker restart does
    // not flap every host down and up.
    h.last_heard = now_ms;
    bool fresh = false;
    host_entry& e = entry(fqdn, fresh);
    e = std::move(h);
    if (e.status == host_status::up) heard_.emplace_back(&e, now_ms);
    if (e.status == host_status::down) down_.insert(&e);
  });
}

bool host_directory::adopt(const host_entry& peer, std::int64_t now_ms) {
  bool fresh = false;
  host_entry& h = entry(peer.fqdn, fresh);
  bool newer_record = fresh || peer.record_version > h.record_version;
  // Same presence, other status: the peer's liveness clock has been running, ours has not.
  bool peer_status = fresh || peer.presence_version > h.presence_version ||
                     (peer.presence_version == h.presence_version && peer.status != h.status);
  if (!newer_record && !peer_status) return false;
  if (fresh) {
    h.fqdn = peer.fqdn;
    h.first_seen = peer.first_seen;
  }
  if (newer_record) {
    h.record = peer.record;
    h.record_version = peer.record_version;
  }
  if (peer_status) {
    h.presence_version = peer.presence_version;
    h.unregistered = peer.unregistered;
    h.status = peer.status;
    h.reason = peer.reason;
    h.status_since = peer.status_since;
  }
  if (h.status == host_status::down)
    down_.insert(&h);
  else
    down_.erase(&h);
  h.last_seen = std::max(h.last_seen, peer.last_seen);
  h.last_heard = now_ms;
  if (h.status == host_status::up) heard_.emplace_back(&h, now_ms);
  dirty_.insert(h.fqdn);
  return true;
}

common::result<void> host_directory::flush(state_db& db, std::int64_t now_ms, bool everything) {
  rocksdb::WriteBatch batch;
  auto write = [&](host_entry& h) {
    h.persisted_ms = now_ms;
    h.stale = false;
    batch.Put(std::string(host_prefix) + h.fqdn, state_db::pack(stored_form(h)));
  };
  for (const auto& fqdn : dirty_)
    if (auto it = index_.find(fqdn); it != index_.end()) write(*it->second);
  dirty_.clear();
  std::size_t budget = timing_.heartbeat_writes_per_flush;
  while (!stale_.empty() && (everything || budget > 0)) {
    host_entry& h = *stale_.front();
    if (h.stale) {
      if (!everything && now_ms - h.persisted_ms < timing_.heartbeat_persist_ms) break;
      if (!everything) --budget;
      write(h);
    }
    stale_.pop_front();
  }
  if (batch.Count() == 0) return {};
  return db.write(batch, false);
}

}  // namespace dockmesh::broker
