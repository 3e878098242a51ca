#include "broker/key_store.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/curve_keys.hpp"
#include "common/log.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;

constexpr std::string_view key_prefix = "k/";

std::optional<key_state> parse_state(std::string_view s) {
  if (s == "accepted") return key_state::accepted;
  if (s == "pending") return key_state::pending;
  if (s == "rejected") return key_state::rejected;
  if (s == "revoked") return key_state::revoked;
  return std::nullopt;
}

std::optional<key_entry> entry_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  key_entry e;
  e.public_key = j.value("public_key", "");
  e.name = j.value("name", "");
  e.updated_ms = j.value("updated", std::int64_t{0});
  auto r = parse_key_role(j.value("role", ""));
  auto s = parse_state(j.value("state", ""));
  if (!r || !s || !common::valid_z85_key(e.public_key)) return std::nullopt;
  e.who = *r;
  e.state = *s;
  return e;
}

common::result<key_entry> parse_line(std::string_view line, int number) {
  std::istringstream in{std::string(line)};
  std::string r, name, key, extra;
  in >> r >> name >> key >> extra;
  auto where = "line " + std::to_string(number) + ": ";
  // '#' is a Z85 character: only a fourth field may start a trailing comment.
  if (key.empty() || (!extra.empty() && extra.front() != '#'))
    return make_error(errc::invalid_argument, where + "expected '<role> <name> <public-key>'");
  auto who = parse_key_role(r);
  if (!who || *who == role::broker)
    return make_error(errc::invalid_argument, where + "role must be agent, bridge or admin");
  if (!common::valid_segment(name))
    return make_error(errc::invalid_argument, where + "invalid name '" + name + "'");
  if (!common::valid_z85_key(key))
    return make_error(errc::invalid_argument, where + "public key must be 40 characters of Z85");
  return key_entry{key, *who, name, key_state::accepted, 0};
}

}  // namespace

std::string_view to_string(key_state s) {
  switch (s) {
    case key_state::accepted:
      return "accepted";
    case key_state::pending:
      return "pending";
    case key_state::rejected:
      return "rejected";
    case key_state::revoked:
      return "revoked";
  }
  return "?";
}

nlohmann::json key_entry::to_json() const {
  return {{"public_key", public_key},
          {"role", std::string(broker::to_string(who))},
          {"name", name},
          {"state", std::string(broker::to_string(state))},
          {"updated", updated_ms}};
}

common::result<std::vector<key_entry>> parse_authorized_keys(std::string_view text) {
  std::vector<key_entry> out;
  int number = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++number;
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto e = parse_line(line, number);
    if (!e) return e.err();
    out.push_back(std::move(*e));
  }
  return out;
}

std::vector<key_entry> load_authorized_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read authorized keys file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = parse_authorized_keys(ss.str());
  if (!parsed) throw std::runtime_error(path + ": " + parsed.err().message);
  return std::move(*parsed);
}

key_store::key_store(state_db& db, std::size_t max_pending) : db_(db), max_pending_(max_pending) {
  db_.for_each(key_prefix, [&](std::string_view k, const nlohmann::json& v) {
    auto e = entry_from_json(v);
    if (!e) {
      DM_LOG(warn) << "ignoring malformed key record " << k;
      return;
    }
    if (e->state == key_state::pending) ++pending_count_;
    keys_[e->public_key] = std::move(*e);
  });
}

common::result<void> key_store::save(key_entry& e, bool sync, key_write how) {
  ++generation_;
  e.local_ahead = mirror_ && e.state != key_state::pending;
  if (mirror_) mirror_(e, how);
  return db_.put(std::string(key_prefix) + e.public_key, e.to_json(), sync);
}

void key_store::merge_authorized(const std::vector<key_entry>& entries, std::int64_t now_ms) {
  for (const auto& f : entries) {
    auto it = keys_.find(f.public_key);
    if (it != keys_.end() &&
        (it->second.state == key_state::revoked || it->second.state == key_state::rejected)) {
      DM_LOG(warn) << "authorized-keys lists " << to_string(f.who) << ":" << f.name << " ("
                   << f.public_key.substr(0, 8) << "...) but the key is "
                   << to_string(it->second.state) << "; it stays refused";
      continue;
    }
    if (it != keys_.end() && it->second.state == key_state::accepted && it->second.who == f.who &&
        it->second.name == f.name)
      continue;
    auto r = accept(f.public_key, f.who, f.name, now_ms);
    if (!r) {
      DM_LOG(warn) << "authorized-keys: " << r.err().message;
    }
  }
}

const key_entry* key_store::find(std::string_view public_key) const {
  auto it = keys_.find(std::string(public_key));
  return it == keys_.end() ? nullptr : &it->second;
}

common::result<key_entry> key_store::resolve(std::string_view key_or_name) const {
  if (const key_entry* e = find(key_or_name)) return *e;
  // By name: live keys (accepted, pending) first, so that the old, revoked key of a re-keyed
  // host does not make its new key ambiguous.
  std::vector<const key_entry*> live, refused;
  for (const auto& [k, e] : keys_) {
    if (e.name != key_or_name) continue;
    bool is_live = e.state == key_state::accepted || e.state == key_state::pending;
    (is_live ? live : refused).push_back(&e);
  }
  const auto& matches = live.empty() ? refused : live;
  if (matches.empty())
    return make_error(errc::not_found, "no key or key name '" + std::string(key_or_name) + "'");
  if (matches.size() > 1)
    return make_error(errc::conflict, "several keys are named '" + std::string(key_or_name) +
                                          "': give the public key");
  return *matches.front();
}

std::vector<key_entry> key_store::list() const {
  std::vector<key_entry> out;
  out.reserve(keys_.size());
  for (const auto& [k, e] : keys_) out.push_back(e);
  return out;
}

bool key_store::note_pending(std::string_view public_key, std::string_view name,
                             std::int64_t now_ms) {
  auto it = keys_.find(std::string(public_key));
  if (it != keys_.end()) {
    if (it->second.state != key_state::pending || name.empty() || it->second.name == name)
      return true;
    it->second.name = std::string(name);  // enroll names a key first seen on the bus
    it->second.updated_ms = now_ms;
    return save(it->second, true, key_write::renote).ok();
  }
  if (pending_count_ >= max_pending_ || !common::valid_z85_key(public_key)) return false;
  key_entry e{std::string(public_key), role::agent, std::string(name), key_state::pending, now_ms};
  ++pending_count_;
  // Not synced: a pending key is a note for the admin, and ZAP must not wait on a disk.
  auto saved = save(e, false, key_write::note);
  keys_.emplace(e.public_key, std::move(e));
  return saved.ok();
}

common::result<key_entry> key_store::accept(std::string_view public_key, role who,
                                            std::string_view name, std::int64_t now_ms) {
  if (!common::valid_z85_key(public_key))
    return make_error(errc::invalid_argument, "public key must be 40 characters of Z85");
  if (!common::valid_segment(name))
    return make_error(errc::invalid_argument, "invalid key name '" + std::string(name) + "'");
  if (who == role::agent) {
    for (const auto& [k, e] : keys_)
      if (k != public_key && e.state == key_state::accepted && e.who == role::agent &&
          e.name == name)
        return make_error(errc::conflict, "another accepted key already speaks for agent " +
                                              std::string(name) + ": revoke it first");
  }
  auto [it, inserted] = keys_.try_emplace(std::string(public_key));
  if (!inserted && it->second.state == key_state::pending) --pending_count_;
  std::int64_t revision = it->second.revision;  // what etcd last said stays the yardstick
  it->second =
      key_entry{std::string(public_key), who, std::string(name), key_state::accepted, now_ms};
  it->second.revision = revision;
  if (auto s = save(it->second); !s) return s.err();
  return it->second;
}

common::result<key_entry> key_store::set_refused(std::string_view public_key, key_state state,
                                                 std::int64_t now_ms) {
  auto it = keys_.find(std::string(public_key));
  if (it == keys_.end()) return make_error(errc::not_found, "unknown key");
  if (it->second.state == key_state::pending) --pending_count_;
  it->second.state = state;
  it->second.updated_ms = now_ms;
  if (auto s = save(it->second); !s) return s.err();
  return it->second;
}

// --- with --etcd: what etcd says, in etcd's order ---

nlohmann::json etcd_key_command(const key_entry& e, key_write how) {
  const char* op = "put-key";
  switch (how) {
    case key_write::decision:
      op = "put-key";
      break;
    case key_write::note:
      op = "note-key";
      break;
    case key_write::renote:
      op = "renote-key";
      break;
    case key_write::seed:
      op = "seed-key";
      break;
  }
  nlohmann::json c = {{"op", op}, {"public_key", e.public_key}, {"record", e.to_json()}};
  if (how == key_write::renote) c["revision"] = e.revision;
  return c;
}

void key_store::seed_mirror() {
  if (!mirror_) return;
  for (auto& [k, e] : keys_) {
    if (e.state != key_state::accepted) continue;
    e.local_ahead = true;  // until etcd's record comes back: a pending note must not win
    mirror_(e, key_write::seed);
  }
}

void key_store::etcd_missed(std::string_view public_key) {
  auto it = keys_.find(std::string(public_key));
  if (it == keys_.end()) return;
  it->second.local_ahead = false;
  it->second.revision = 0;  // so that the next snapshot's record, even an old one, applies
}

bool key_store::apply_remote(const nlohmann::json& record, std::int64_t mod_revision) {
  auto e = entry_from_json(record);
  if (!e) {
    DM_LOG(warn) << "ignoring a malformed key record from etcd";
    return false;
  }
  e->revision = mod_revision;
  auto [it, inserted] = keys_.try_emplace(e->public_key, *e);
  key_entry before = it->second;
  if (!inserted) {
    // A snapshot taken before records this broker already applied.
    if (mod_revision > 0 && mod_revision <= before.revision) return false;
    bool same = before.state == e->state && before.who == e->who && before.name == e->name;
    // A note another broker wrote before this broker's decision reached etcd: the decision's
    // put comes later in etcd's order, and with it the record that counts.
    bool stale_note =
        e->state == key_state::pending && before.state != key_state::pending && before.local_ahead;
    if (same || stale_note) {
      it->second.revision = mod_revision;
      if (same) it->second.local_ahead = false;
      return false;
    }
    it->second = *e;
  }
  if (!inserted && before.state == key_state::pending) --pending_count_;
  if (e->state == key_state::pending) ++pending_count_;
  ++generation_;
  // Only a cache of etcd: no sync, and not mirrored back.
  if (auto s = db_.put(std::string(key_prefix) + e->public_key, e->to_json(), false); !s) {
    DM_LOG(warn) << "caching a key record: " << s.err().message;
  }
  DM_LOG(info) << "key " << to_string(e->who) << ":" << e->name << " ("
               << e->public_key.substr(0, 8) << "...) is " << to_string(e->state)
               << " (etcd revision " << mod_revision << ")";
  return !inserted && before.state == key_state::accepted &&
         (e->state != key_state::accepted || e->who != before.who || e->name != before.name);
}

}  // namespace dockmesh::broker
