#include "broker/directory_snapshot.hpp"

#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/json_fields.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;

constexpr std::size_t max_reason_bytes = 1024;

// A non-negative integer that fits int64 (a huge unsigned one would wrap when read as int64).
bool read_count(const json& j, const char* key, std::int64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return false;
  if (it->is_number_unsigned() &&
      it->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
    return false;
  out = it->get<std::int64_t>();
  return out >= 0;
}

// [incarnation, sequence], both >= 0; [-1, -1] too when `unset_ok` (a host heard only by an
// unregister has no record yet).
bool read_version(const json& j, const char* key, bool unset_ok, version_stamp& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->size() != 2) return false;
  json parts = {{"incarnation", (*it)[0]}, {"sequence", (*it)[1]}};
  std::int64_t inc = 0, seq = 0;
  if (read_count(parts, "incarnation", inc) && read_count(parts, "sequence", seq)) {
    out = {inc, seq};
    return true;
  }
  if (!unset_ok || !(*it)[0].is_number_integer() || !(*it)[1].is_number_integer()) return false;
  out = {};
  return (*it)[0].get<std::int64_t>() == -1 && (*it)[1].get<std::int64_t>() == -1;
}

common::result<host_entry> parse_host(const json& j) {
  if (!j.is_object()) return make_error(errc::malformed, "a host is not an object");
  host_entry h;
  auto fqdn = j.find("fqdn");
  if (fqdn == j.end() || !fqdn->is_string() || !common::valid_segment(fqdn->get<std::string>()))
    return make_error(errc::malformed, "a host without a valid fqdn");
  h.fqdn = fqdn->get<std::string>();
  auto bad = [&](const std::string& what) {
    return make_error(errc::malformed, "host " + h.fqdn + ": " + what);
  };
  auto status = j.find("status");
  auto parsed = status != j.end() && status->is_string()
                    ? parse_host_status(status->get<std::string>())
                    : std::nullopt;
  if (!parsed) return bad("status must be up, down or gone");
  h.status = *parsed;
  auto reason = j.find("reason");
  if (reason != j.end() &&
      (!reason->is_string() || reason->get_ref<const std::string&>().size() > max_reason_bytes))
    return bad("reason must be a short string");
  if (reason != j.end()) h.reason = reason->get<std::string>();
  if (!read_count(j, "first_seen", h.first_seen) || !read_count(j, "last_seen", h.last_seen) ||
      !read_count(j, "status_since", h.status_since))
    return bad("first_seen, last_seen and status_since must be unix ms");
  auto unregistered = j.find("unregistered");
  if (unregistered == j.end() || !unregistered->is_boolean())
    return bad("unregistered must be true or false");
  h.unregistered = unregistered->get<bool>();
  if (!read_version(j, "presence_version", false, h.presence_version) ||
      !read_version(j, "record_version", true, h.record_version))
    return bad("versions must be [incarnation, sequence]");
  auto record = j.find("record");
  if (record == j.end() || !record->is_object()) return bad("record must be an object");
  h.record = *record;
  // The record is an announcement body: its own fqdn and version must be the entry's.
  bool unset = h.record_version == version_stamp{};
  auto own = version_stamp::of_announcement(h.record);
  if (unset ? !h.record.empty()
            : (!own || *own != h.record_version || common::str_of(h.record, "fqdn") != h.fqdn))
    return bad("record does not match its fqdn and record_version");
  if (h.presence_version < h.record_version) return bad("presence older than the record");
  return h;
}

struct parsed_inventory {
  version_stamp version;
  json list = json::array();
};

// Inventories by fqdn, each with its containers' JSON gathered from the flat list.
common::result<std::map<std::string, parsed_inventory>> group_containers(const json& body) {
  std::map<std::string, parsed_inventory> out;
  for (const auto& inv : body["inventories"]) {
    std::string fqdn = inv.is_object() ? common::str_of(inv, "fqdn") : "";
    if (!common::valid_segment(fqdn))
      return make_error(errc::malformed, "an inventory without a valid fqdn");
    if (!read_version(inv, "version", false, out[fqdn].version))
      return make_error(errc::malformed, "inventory of " + fqdn + ": bad version");
  }
  if (out.size() != body["inventories"].size())
    return make_error(errc::malformed, "a host has two inventories");
  for (const auto& c : body["containers"]) {
    auto it = out.find(c.is_object() ? common::str_of(c, "host") : "");
    if (it == out.end()) return make_error(errc::malformed, "a container of no listed inventory");
    it->second.list.push_back(c);
  }
  return out;
}

struct parsed_snapshot {
  std::vector<host_entry> hosts;
  std::map<std::string, std::vector<container_entry>> containers;
  std::map<std::string, version_stamp> versions;
  std::size_t container_count = 0;
};

common::result<parsed_snapshot> parse_snapshot(const json& body) {
  if (!body.is_object()) return make_error(errc::malformed, "the snapshot is not an object");
  for (const char* key : {"hosts", "inventories", "containers"})
    if (!body.contains(key) || !body[key].is_array())
      return make_error(errc::malformed, std::string("the snapshot has no ") + key + " list");
  if (body["hosts"].size() > snapshot_max_hosts ||
      body["inventories"].size() > snapshot_max_hosts ||
      body["containers"].size() > snapshot_max_containers)
    return make_error(errc::too_large, "the snapshot holds more than a broker takes");
  parsed_snapshot out;
  std::set<std::string> seen;
  for (const auto& j : body["hosts"]) {
    auto h = parse_host(j);
    if (!h) return h.err();
    if (!seen.insert(h->fqdn).second)
      return make_error(errc::malformed, "host " + h->fqdn + " is listed twice");
    out.hosts.push_back(std::move(*h));
  }
  auto groups = group_containers(body);
  if (!groups) return groups.err();
  std::set<std::string> ids;
  for (auto& [fqdn, inv] : *groups) {
    auto list = container_index::parse_list(inv.list, fqdn);
    if (!list)
      return make_error(errc::malformed, "containers of " + fqdn + ": " + list.err().message);
    for (const auto& c : *list)
      if (!ids.insert(c.id).second)
        return make_error(errc::malformed, "container " + c.id + " is listed twice");
    out.container_count += list->size();
    out.versions[fqdn] = inv.version;
    out.containers[fqdn] = std::move(*list);
  }
  return out;
}

}  // namespace

json make_directory_snapshot(const host_directory& hosts, const container_index& containers,
                             const std::string& broker, std::int64_t now_ms) {
  json host_list = json::array();
  for (const auto& entry : hosts.hosts()) {
    const host_entry& h = entry.second;
    host_list.push_back({{"fqdn", h.fqdn},
                         {"status", std::string(to_string(h.status))},
                         {"reason", h.reason},
                         {"record", h.record.is_object() ? h.record : json::object()},
                         {"record_version", h.record_version.to_json()},
                         {"presence_version", h.presence_version.to_json()},
                         {"unregistered", h.unregistered},
                         {"first_seen", h.first_seen},
                         {"last_seen", h.last_seen},
                         {"status_since", h.status_since},
                         {"heard_ms_ago", std::max<std::int64_t>(0, now_ms - h.last_heard)}});
  }
  json inventories = json::array();
  json list = json::array();
  containers.for_each_inventory([&](const std::string& fqdn, const version_stamp& version,
                                    const std::vector<container_entry>& entries) {
    if (version == version_stamp{}) return;  // never heard (a host's entry made by a lookup)
    inventories.push_back({{"fqdn", fqdn}, {"version", version.to_json()}});
    for (const auto& c : entries) list.push_back(c.to_json());
  });
  return {{"broker", broker},
          {"taken", now_ms},
          {"hosts", std::move(host_list)},
          {"inventories", std::move(inventories)},
          {"containers", std::move(list)}};
}

common::result<snapshot_counts> load_directory_snapshot(const json& body, host_directory& hosts,
                                                        container_index& containers,
                                                        std::int64_t now_ms) {
  auto parsed = parse_snapshot(body);
  if (!parsed) return parsed.err();
  snapshot_counts counts;
  counts.hosts = parsed->hosts.size();
  counts.containers = parsed->container_count;
  for (const auto& h : parsed->hosts)
    if (hosts.adopt(h, now_ms)) ++counts.hosts_adopted;
  for (auto& [fqdn, list] : parsed->containers)
    if (containers.adopt_inventory(fqdn, parsed->versions[fqdn], std::move(list)))
      ++counts.inventories_adopted;
  return counts;
}

}  // namespace dockmesh::broker
