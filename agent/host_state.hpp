// host_state: what the agent tells the mesh about its host. host_facts comes from dockerd's
// /info and /version; the inventory is the container list the directory keeps (with each
// container's memory limit, which only inspect tells, so inspect results are cached by id).
// host_record() assembles the body of register/heartbeat (docs/architecture.md). Facts and
// inventory are read on worker threads; the records are built on the bus thread from copies.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/action_context.hpp"
#include "agent/docker_transport.hpp"

namespace dockmesh::agent {

struct host_facts {
  std::string docker_version, api_version, os, kernel, architecture, storage_driver, docker_name;
  std::int64_t cpus = 0, memory_bytes = 0, images = 0;
  std::int64_t containers_running = 0, containers_paused = 0, containers_stopped = 0,
               containers_total = 0;
};

host_facts facts_from(const nlohmann::json& info, const nlohmann::json& version);
result<host_facts> read_host_facts(docker_transport& docker);  // GET /info, GET /version
nlohmann::json to_json(const host_facts& f);
host_facts facts_from_json(const nlohmann::json& j);  // inverse of to_json

struct inventory_entry {
  std::string id, name, image, state, owner;
  std::int64_t created = 0, memory_limit = 0;
  std::string request;  // the dockmesh.request label: brokers match it to their placements
  std::string health;   // Docker's health (healthy, unhealthy, starting); "" without a check
  bool operator==(const inventory_entry&) const = default;
};

// Remembers each container's memory limit so that a refresh inspects only new containers.
// Thread-safe: refreshes may run on any worker.
class inventory_reader {
 public:
  result<std::vector<inventory_entry>> read(docker_transport& docker);

 private:
  std::mutex mutex_;
  std::map<std::string, std::int64_t> memory_by_id_;
};

std::vector<inventory_entry> entries_from_list(const nlohmann::json& list);
// Sets the state of the entry whose id is patch["id"] to patch["state"]; false if no entry has it.
bool apply_state_patch(std::vector<inventory_entry>& inventory, const nlohmann::json& patch);
nlohmann::json to_json(const std::vector<inventory_entry>& inventory);
std::vector<inventory_entry> inventory_from_json(const nlohmann::json& j);  // inverse of to_json
// A stable fingerprint of an inventory (16 hex chars); the directory compares it to its copy.
std::string inventory_digest(const std::vector<inventory_entry>& inventory);

struct announcement_state {
  std::int64_t incarnation = 0;  // agent start, unix ms
  std::int64_t sequence = 0;     // +1 per announcement
  bool docker_up = false;
  host_facts facts;
  std::vector<inventory_entry> inventory;
  bool have_inventory = false;
};

// Body of register and heartbeat.
nlohmann::json host_record(const agent_identity& self, const announcement_state& s);
// Body of inventory.
nlohmann::json inventory_record(const agent_identity& self, const announcement_state& s);

}  // namespace dockmesh::agent
