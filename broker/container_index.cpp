#include "broker/container_index.hpp"

#include "common/json_fields.hpp"

#include <unordered_map>

#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;

constexpr std::string_view inventory_prefix = "i/";

bool valid_container_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  return true;
}

using common::int_of;
using common::str_of;

std::optional<container_entry> parse_container(const json& j, const std::string& host) {
  if (!j.is_object()) return std::nullopt;
  container_entry c;
  c.id = str_of(j, "id");
  if (!valid_container_id(c.id)) return std::nullopt;
  c.host = host;
  c.name = str_of(j, "name");
  if (!c.name.empty() && c.name.front() == '/') c.name.erase(0, 1);
  c.image = str_of(j, "image");
  c.state = str_of(j, "state");
  c.created = int_of(j, "created");
  c.owner = str_of(j, "owner");
  c.memory_limit = int_of(j, "memory_limit");
  c.request = str_of(j, "request");
  c.health = str_of(j, "health");
  return c;
}

common::result<std::vector<container_entry>> parse_containers(const json& list,
                                                              const std::string& host) {
  if (!list.is_array())
    return make_error(errc::invalid_argument, "inventory needs a containers list");
  if (list.size() > container_index::max_containers_per_host)
    return make_error(errc::too_large, "inventory lists too many containers");
  std::vector<container_entry> out;
  out.reserve(list.size());
  for (const auto& j : list) {
    auto c = parse_container(j, host);
    if (!c) return make_error(errc::invalid_argument, "inventory entry without a valid id");
    out.push_back(std::move(*c));
  }
  return out;
}

void diff(const std::vector<container_entry>& before, const std::vector<container_entry>& after,
          directory_events& out) {
  std::unordered_map<std::string, const container_entry*> old;
  for (const auto& c : before) old[c.id] = &c;
  for (const auto& c : after) {
    auto it = old.find(c.id);
    if (it == old.end())
      out.push_back({std::string(common::protocol::names::container_added), c.to_json()});
    else if (!(*it->second == c))
      out.push_back({std::string(common::protocol::names::container_changed), c.to_json()});
    if (it != old.end()) old.erase(it);
  }
  for (const auto& [id, c] : old)
    out.push_back({std::string(common::protocol::names::container_removed), c->to_json()});
}

}  // namespace

json container_entry::to_json() const {
  json out = {
      {"id", id},          {"host", host},       {"name", name},   {"image", image},
      {"state", state},    {"created", created}, {"owner", owner}, {"memory_limit", memory_limit},
      {"request", request}};
  if (!health.empty()) out["health"] = health;
  return out;
}

common::result<directory_events> container_index::apply_inventory(const json& body) {
  auto v = version_stamp::of_announcement(body);
  std::string fqdn = body.is_object() ? str_of(body, "fqdn") : std::string();
  if (!v || !common::valid_segment(fqdn))
    return make_error(errc::invalid_argument, "inventory needs fqdn, incarnation and sequence");
  auto containers =
      parse_containers(body.contains("containers") ? body["containers"] : json(), fqdn);
  if (!containers) return containers.err();
  directory_events out;
  auto& inv = hosts_[fqdn];
  if (!(*v > inv.version)) return out;  // an older inventory: the newer one already won
  fresh_.insert(fqdn);
  diff(inv.containers, *containers, out);
  unindex_host(fqdn);
  inv.version = *v;
  inv.containers = std::move(*containers);
  index_host(fqdn);
  dirty_.insert(fqdn);
  return out;
}

bool container_index::adopt_inventory(const std::string& fqdn, version_stamp version,
                                      std::vector<container_entry> containers) {
  auto& inv = hosts_[fqdn];
  if (!(version > inv.version)) return false;
  unindex_host(fqdn);
  inv.version = version;
  inv.containers = std::move(containers);
  index_host(fqdn);
  dirty_.insert(fqdn);
  return true;
}

common::result<std::vector<container_entry>> container_index::parse_list(const json& list,
                                                                         const std::string& host) {
  return parse_containers(list, host);
}

directory_events container_index::remove_host(const std::string& fqdn) {
  directory_events out;
  auto it = hosts_.find(fqdn);
  if (it == hosts_.end()) return out;
  diff(it->second.containers, {}, out);
  unindex_host(fqdn);
  // The version is kept so that a late, old inventory cannot bring the containers back.
  it->second.containers.clear();
  dirty_.insert(fqdn);
  return out;
}

void container_index::index_host(const std::string& fqdn) {
  for (const auto& c : hosts_[fqdn].containers) by_id_[c.id] = fqdn;
}

void container_index::unindex_host(const std::string& fqdn) {
  auto it = hosts_.find(fqdn);
  if (it == hosts_.end()) return;
  for (const auto& c : it->second.containers) {
    auto b = by_id_.find(c.id);
    if (b != by_id_.end() && b->second == fqdn) by_id_.erase(b);
  }
}

common::result<container_entry> container_index::lookup(std::string_view ref,
                                                        std::string_view owner) const {
  if (ref.empty()) return make_error(errc::invalid_argument, "container reference is empty");
  std::vector<const container_entry*> by_name, by_prefix;
  const container_entry* exact = nullptr;
  for (const auto& [fqdn, inv] : hosts_)
    for (const auto& c : inv.containers) {
      if (!owner.empty() && c.owner != owner) continue;
      if (c.id == ref) exact = &c;
      if (c.name == ref || (ref.front() == '/' && c.name == ref.substr(1))) by_name.push_back(&c);
      if (c.id.compare(0, ref.size(), ref) == 0) by_prefix.push_back(&c);
    }
  if (exact) return *exact;
  for (const auto* matches : {&by_name, &by_prefix}) {
    if (matches->size() == 1) return *matches->front();
    if (matches->size() > 1) {
      // Appended, not `"'" + std::string`: GCC 12 at -O3 warns -Wrestrict (a false positive).
      std::string text = "'";
      text.append(ref).append("' matches ").append(std::to_string(matches->size()));
      text += " containers: ";
      for (const auto* c : *matches) {
        if (c != matches->front()) text += ", ";
        text.append(c->id.substr(0, 12)).append(" on ").append(c->host);
        text.append(" (").append(c->name).append(")");
      }
      return make_error(errc::conflict, text + "; give an id");
    }
  }
  return make_error(errc::not_found, "no container '" + std::string(ref) + "'");
}

json container_index::list(std::string_view host, std::string_view owner) const {
  json out = json::array();
  for (const auto& [fqdn, inv] : hosts_) {
    if (!host.empty() && fqdn != host) continue;
    for (const auto& c : inv.containers)
      if (owner.empty() || c.owner == owner) out.push_back(c.to_json());
  }
  return out;
}

const container_entry* container_index::find_name(std::string_view name) const {
  for (const auto& [fqdn, inv] : hosts_)
    for (const auto& c : inv.containers)
      if (c.name == name) return &c;
  return nullptr;
}

const std::vector<container_entry>& container_index::on_host(std::string_view fqdn) const {
  static const std::vector<container_entry> none;
  auto it = hosts_.find(fqdn);
  return it == hosts_.end() ? none : it->second.containers;
}

version_stamp container_index::inventory_version(std::string_view fqdn) const {
  auto it = hosts_.find(fqdn);
  return it == hosts_.end() ? version_stamp{} : it->second.version;
}

void container_index::load(const state_db& db) {
  db.for_each(inventory_prefix, [&](std::string_view key, const json& v) {
    std::string fqdn(key.substr(inventory_prefix.size()));
    if (!v.is_object() || !common::valid_segment(fqdn)) return;
    auto containers = parse_containers(v.value("containers", json::array()), fqdn);
    if (!containers) return;
    auto& inv = hosts_[fqdn];
    inv.version = version_stamp::from_json(v.value("version", json()));
    inv.containers = std::move(*containers);
    index_host(fqdn);
  });
}

common::result<void> container_index::flush(state_db& db) {
  if (dirty_.empty()) return {};
  rocksdb::WriteBatch batch;
  for (const auto& fqdn : dirty_) {
    const auto& inv = hosts_[fqdn];
    json containers = json::array();
    for (const auto& c : inv.containers) containers.push_back(c.to_json());
    batch.Put(std::string(inventory_prefix) + fqdn,
              state_db::pack({{"version", inv.version.to_json()}, {"containers", containers}}));
  }
  dirty_.clear();
  return db.write(batch, false);
}

}  // namespace dockmesh::broker
