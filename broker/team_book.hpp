// team_book: the teams of users that may own host pools (docs/services.md, "Teams"). A team is
// {name, members: [user ids], version}; a host whose pool is "team:<name>" takes placements for
// the team's members (common::pool_admits). The records live in the service_registry beside
// the host policies (RocksDB key r/t/<name>; with --etcd <prefix>services/t/<name>, mirrored
// and watched like every record), so every broker answers the same. Owned by the hub thread
// (through host_policy_book); never blocks beyond a RocksDB write.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/service_registry.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

// The names of the teams that list `user` ("" is in no team), sorted.
std::vector<std::string> teams_of_user(const service_registry& registry, const std::string& user);

class team_book {
 public:
  static constexpr std::size_t max_members = 1000;

  explicit team_book(service_registry& registry) : registry_(registry) {}

  std::vector<std::string> teams_of(const std::string& user) const {
    return teams_of_user(registry_, user);
  }
  bool exists(const std::string& name) const;

  // team-set: body {name, members}; replaces the member list (sorted, without repeats). 400
  // naming the field on bad input.
  common::result<nlohmann::json> set_team(const nlohmann::json& body, std::int64_t now_ms);
  // team-delete: 404 for a team that does not exist; 409 naming the hosts while any host's
  // pool is still the team's (an admin moves them first).
  common::result<nlohmann::json> delete_team(const std::string& name);
  // Every team ("" = all), or those that list `user`.
  nlohmann::json teams(const std::string& user) const;

 private:
  service_registry& registry_;
};

}  // namespace dockmesh::broker
