// container_index: every container the agents report, by id, from their `inventory`
// announcements (id -> host, name, image, state, created, owner, memory_limit). Each host's
// inventory is a last-writer-wins register on its version_stamp: a newer inventory replaces the
// host's whole set, an older one is ignored, so the index converges whatever the order.
// Answers the control queries `container` (id, unique id prefix or name) and `containers`, and
// gives the scheduler each host's containers. Owned by the hub thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/directory_event.hpp"
#include "broker/state_db.hpp"
#include "broker/version_stamp.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

struct container_entry {
  std::string id;
  std::string host;
  std::string name;  // without Docker's leading '/'
  std::string image;
  std::string state;
  std::int64_t created = 0;
  std::string owner;
  std::int64_t memory_limit = 0;  // bytes; 0 = unlimited
  std::string request;            // id of the request that created it (its dockmesh.request label)
  std::string health;             // Docker's health: healthy, unhealthy, starting; "" = no check
  nlohmann::json to_json() const;
  bool operator==(const container_entry&) const = default;
};

class container_index {
 public:
  static constexpr std::size_t max_containers_per_host = 10000;

  // An `inventory` body: fqdn, incarnation, sequence, containers [...]. 400 if malformed.
  common::result<directory_events> apply_inventory(const nlohmann::json& body);
  // A peer broker's inventory of `fqdn` (directory_snapshot.hpp): replaces ours if `version` is
  // newer. Unlike apply_inventory the host does not count as heard since start, so the broker
  // still asks it for its own inventory. True when applied.
  bool adopt_inventory(const std::string& fqdn, version_stamp version,
                       std::vector<container_entry> containers);
  // Checks and converts a containers list as apply_inventory does (400/413 on a bad one).
  static common::result<std::vector<container_entry>> parse_list(const nlohmann::json& list,
                                                                 const std::string& host);
  // Every host's inventory: fn(fqdn, version, containers).
  template <class Fn>
  void for_each_inventory(Fn&& fn) const {
    for (const auto& [fqdn, inv] : hosts_) fn(fqdn, inv.version, inv.containers);
  }
  // The host is gone: its containers leave the index.
  directory_events remove_host(const std::string& fqdn);

  // Exact id, then exact name, then unique id prefix; only containers of `owner` when given.
  // 404 if nothing matches, 409 listing the candidates (id, host, name) if several do.
  common::result<container_entry> lookup(std::string_view ref, std::string_view owner) const;
  nlohmann::json list(std::string_view host, std::string_view owner) const;
  // The container named `name` (without '/'), on any host; nullptr if none.
  const container_entry* find_name(std::string_view name) const;
  const std::vector<container_entry>& on_host(std::string_view fqdn) const;
  version_stamp inventory_version(std::string_view fqdn) const;
  std::size_t size() const { return by_id_.size(); }

  // Hosts whose inventory this broker received since it started (the hub asks the others to
  // re-announce).
  bool heard_since_start(std::string_view fqdn) const {
    return fresh_.count(std::string(fqdn)) > 0;
  }

  void load(const state_db& db);
  common::result<void> flush(state_db& db);

 private:
  struct host_inventory {
    version_stamp version;
    std::vector<container_entry> containers;
  };
  void index_host(const std::string& fqdn);
  void unindex_host(const std::string& fqdn);

  std::map<std::string, host_inventory, std::less<>> hosts_;
  std::map<std::string, std::string, std::less<>> by_id_;  // container id -> host
  std::set<std::string> dirty_;
  std::unordered_set<std::string> fresh_;
};

}  // namespace dockmesh::broker
