#include "broker/team_book.hpp"

#include <algorithm>

#include "common/ownership.hpp"
#include "common/service_spec.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;

bool lists(const json& team, const std::string& user) {
  auto members = team.find("members");
  if (members == team.end() || !members->is_array()) return false;
  return std::any_of(members->begin(), members->end(), [&](const json& m) {
    return m.is_string() && m.get_ref<const std::string&>() == user;
  });
}

common::result<std::vector<std::string>> read_members(const json& body) {
  auto it = body.find("members");
  if (it == body.end() || !it->is_array())
    return make_error(errc::invalid_argument, "members must be an array of user ids");
  if (it->size() > team_book::max_members)
    return make_error(errc::invalid_argument,
                      "members: at most " + std::to_string(team_book::max_members));
  std::vector<std::string> out;
  for (const auto& m : *it) {
    if (!m.is_string() || !common::valid_segment(m.get<std::string>()))
      return make_error(errc::invalid_argument,
                        "members must be user ids (1 to 253 of A-Z, a-z, 0-9, '.', '_', '-')");
    out.push_back(m.get<std::string>());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::vector<std::string> teams_of_user(const service_registry& registry, const std::string& user) {
  std::vector<std::string> out;
  if (user.empty()) return out;
  for (const auto& [name, team] : registry.records_of(record_kind::team))
    if (lists(team, user)) out.push_back(name);
  return out;
}

bool team_book::exists(const std::string& name) const {
  return registry_.records_of(record_kind::team).count(name) > 0;
}

common::result<json> team_book::set_team(const json& body, std::int64_t now_ms) {
  auto n = body.find("name");
  if (n == body.end() || !n->is_string() || !common::valid_object_name(n->get<std::string>()))
    return make_error(errc::invalid_argument,
                      "name must be 1 to 31 of a-z, 0-9 and '-', not starting with '-'");
  std::string name = n->get<std::string>();
  auto members = read_members(body);
  if (!members) return members.err();
  const auto& all = registry_.records_of(record_kind::team);
  auto held = all.find(name);
  std::int64_t version = held == all.end() ? 0 : held->second.value("version", std::int64_t{0});
  json record = {{"id", name},
                 {"name", name},
                 {"members", *members},
                 {"version", version + 1},
                 {"updated", now_ms}};
  if (auto w = registry_.put_record(record_kind::team, name, &record); !w) return w.err();
  return record;
}

common::result<json> team_book::delete_team(const std::string& name) {
  if (!exists(name)) return make_error(errc::not_found, "no team '" + name.substr(0, 64) + "'");
  std::string pool = std::string(common::team_pool_prefix) + name, hosts;
  for (const auto& [fqdn, policy] : registry_.records_of(record_kind::host_policy))
    if (policy.value("pool", "") == pool) hosts += (hosts.empty() ? "" : ", ") + fqdn;
  if (!hosts.empty())
    return make_error(errc::conflict,
                      "team " + name + " still owns hosts: " + hosts + " (set their pool first)");
  if (auto w = registry_.put_record(record_kind::team, name, nullptr); !w) return w.err();
  return json{{"id", name}, {"name", name}, {"deleted", true}};
}

json team_book::teams(const std::string& user) const {
  json out = json::array();
  for (const auto& [name, team] : registry_.records_of(record_kind::team))
    if (user.empty() || lists(team, user)) out.push_back(team);
  return out;
}

}  // namespace dockmesh::broker
