#include "agent/host_state.hpp"

#include <algorithm>
#include <cstdio>

#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"

namespace dockmesh::agent {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
  return str_of(j, key);
}
std::int64_t num(const json& j, const char* key) {
  return int_of(j, key);
}

// The list's Status reads "Up 5 seconds (healthy)", "(unhealthy)" or "(health: starting)" for a
// container with a health check: enough for the rolling update's gate without an inspect.
std::string health_of(const std::string& status) {
  if (status.find("(healthy)") != std::string::npos) return "healthy";
  if (status.find("(unhealthy)") != std::string::npos) return "unhealthy";
  if (status.find("(health: starting)") != std::string::npos) return "starting";
  return "";
}

}  // namespace

host_facts facts_from(const json& info, const json& version) {
  host_facts f;
  f.docker_version = str(version, "Version");
  if (f.docker_version.empty()) f.docker_version = str(info, "ServerVersion");
  f.api_version = str(version, "ApiVersion");
  f.os = str(info, "OperatingSystem");
  f.kernel = str(info, "KernelVersion");
  f.architecture = str(info, "Architecture");
  f.storage_driver = str(info, "Driver");
  f.docker_name = str(info, "Name");
  f.cpus = num(info, "NCPU");
  f.memory_bytes = num(info, "MemTotal");
  f.images = num(info, "Images");
  f.containers_running = num(info, "ContainersRunning");
  f.containers_paused = num(info, "ContainersPaused");
  f.containers_stopped = num(info, "ContainersStopped");
  f.containers_total = num(info, "Containers");
  return f;
}

result<host_facts> read_host_facts(docker_transport& docker) {
  auto info = get_json(docker, "/info");
  if (!info) return info.err();
  auto version = get_json(docker, "/version");
  if (!version) return version.err();
  return facts_from(*info, *version);
}

json to_json(const host_facts& f) {
  return {{"docker_version", f.docker_version},
          {"api_version", f.api_version},
          {"os", f.os},
          {"kernel", f.kernel},
          {"architecture", f.architecture},
          {"storage_driver", f.storage_driver},
          {"docker_name", f.docker_name},
          {"cpus", f.cpus},
          {"memory_bytes", f.memory_bytes},
          {"images", f.images},
          {"containers_running", f.containers_running},
          {"containers_paused", f.containers_paused},
          {"containers_stopped", f.containers_stopped},
          {"containers_total", f.containers_total}};
}

host_facts facts_from_json(const json& j) {
  host_facts f;
  if (!j.is_object()) return f;
  f.docker_version = str(j, "docker_version");
  f.api_version = str(j, "api_version");
  f.os = str(j, "os");
  f.kernel = str(j, "kernel");
  f.architecture = str(j, "architecture");
  f.storage_driver = str(j, "storage_driver");
  f.docker_name = str(j, "docker_name");
  f.cpus = num(j, "cpus");
  f.memory_bytes = num(j, "memory_bytes");
  f.images = num(j, "images");
  f.containers_running = num(j, "containers_running");
  f.containers_paused = num(j, "containers_paused");
  f.containers_stopped = num(j, "containers_stopped");
  f.containers_total = num(j, "containers_total");
  return f;
}

std::vector<inventory_entry> inventory_from_json(const json& j) {
  std::vector<inventory_entry> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    out.push_back({str(e, "id"), str(e, "name"), str(e, "image"), str(e, "state"), str(e, "owner"),
                   num(e, "created"), num(e, "memory_limit"), str(e, "request"), str(e, "health")});
  }
  return out;
}

std::vector<inventory_entry> entries_from_list(const json& list) {
  std::vector<inventory_entry> out;
  if (!list.is_array()) return out;
  for (const auto& c : list) {
    if (!c.is_object()) continue;
    inventory_entry e;
    e.id = str(c, "Id");
    e.name = container_name_of(c);
    e.image = str(c, "Image");
    e.state = str(c, "State");
    e.created = num(c, "Created");
    e.owner = str_of(field_of(c, "Labels"), owner_label);
    e.request = str_of(field_of(c, "Labels"), request_label);
    e.health = health_of(str(c, "Status"));
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

bool apply_state_patch(std::vector<inventory_entry>& inventory, const json& patch) {
  std::string id = str(patch, "id");
  if (id.empty()) return false;
  for (auto& e : inventory)
    if (e.id == id) {
      e.state = str(patch, "state");
      return true;
    }
  return false;
}

result<std::vector<inventory_entry>> inventory_reader::read(docker_transport& docker) {
  auto list = get_json(docker, "/containers/json?all=1");
  if (!list) return list.err();
  auto entries = entries_from_list(*list);
  std::lock_guard lock(mutex_);
  std::map<std::string, std::int64_t> kept;
  for (auto& e : entries) {
    auto it = memory_by_id_.find(e.id);
    if (it == memory_by_id_.end()) {
      auto c = get_json(docker, "/containers/" + escape_component(e.id) + "/json");
      // A container removed between list and inspect simply has no limit to report.
      if (c) e.memory_limit = int_of(field_of(*c, "HostConfig"), "Memory");
    } else {
      e.memory_limit = it->second;
    }
    kept[e.id] = e.memory_limit;
  }
  memory_by_id_ = std::move(kept);
  return entries;
}

json to_json(const std::vector<inventory_entry>& inventory) {
  json out = json::array();
  for (const auto& e : inventory) {
    out.push_back({{"id", e.id},
                   {"name", e.name},
                   {"image", e.image},
                   {"state", e.state},
                   {"created", e.created},
                   {"owner", e.owner},
                   {"memory_limit", e.memory_limit},
                   {"request", e.request}});
    if (!e.health.empty()) out.back()["health"] = e.health;
  }
  return out;
}

std::string inventory_digest(const std::vector<inventory_entry>& inventory) {
  // FNV-1a over the canonical JSON: cheap, stable across runs and platforms.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : to_json(inventory).dump()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

json host_record(const agent_identity& self, const announcement_state& s) {
  const host_facts& f = s.facts;
  std::int64_t running = f.containers_running, total = f.containers_total;
  if (s.have_inventory) {
    total = static_cast<std::int64_t>(s.inventory.size());
    running = std::count_if(s.inventory.begin(), s.inventory.end(),
                            [](const auto& e) { return e.state == "running"; });
  }
  return {{"fqdn", self.fqdn},
          {"incarnation", s.incarnation},
          {"sequence", s.sequence},
          {"docker_up", s.docker_up},
          {"docker_version", f.docker_version},
          {"api_version", f.api_version},
          {"cpus", f.cpus},
          {"memory_bytes", f.memory_bytes},
          {"labels", self.labels},
          {"containers_running", running},
          {"containers_total", total},
          {"inventory_digest", s.have_inventory ? inventory_digest(s.inventory) : std::string()},
          {"agent_version", self.agent_version},
          {"os", f.os},
          {"kernel", f.kernel}};
}

json inventory_record(const agent_identity& self, const announcement_state& s) {
  return {{"fqdn", self.fqdn},
          {"incarnation", s.incarnation},
          {"sequence", s.sequence},
          {"containers", to_json(s.inventory)}};
}

}  // namespace dockmesh::agent
