#include "common/ownership.hpp"

#include <algorithm>

namespace dockmesh::common {

std::string_view to_string(role r) {
  return r == role::admin ? "admin" : "user";
}

std::optional<role> parse_role(std::string_view s) {
  if (s == "admin") return role::admin;
  if (s == "user") return role::user;
  return std::nullopt;
}

role role_of_envelope(std::string_view s) {
  return parse_role(s).value_or(role::user);
}

bool is_user_id(std::string_view s) {
  return s.size() == 33 && s[0] == 'u' && std::all_of(s.begin() + 1, s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool may_act(const principal_ref& who, std::string_view owner) {
  if (who.r == role::admin) return true;
  // The bridge always sends ids, so a legacy name label equals no principal's id: admin-only.
  return !who.user_id.empty() && owner == who.user_id;
}

std::string_view team_of_pool(std::string_view pool) {
  if (pool.size() <= team_pool_prefix.size() ||
      pool.substr(0, team_pool_prefix.size()) != team_pool_prefix)
    return {};
  return pool.substr(team_pool_prefix.size());
}

bool pool_admits(std::string_view pool, std::string_view user_id, bool admin,
                 const std::vector<std::string>& teams) {
  if (admin || pool.empty() || pool == user_id) return true;
  auto team = team_of_pool(pool);
  // A request with no user is nobody's, so it is in no team either.
  return !team.empty() && !user_id.empty() &&
         std::find(teams.begin(), teams.end(), team) != teams.end();
}

error no_such_container(std::string_view ref) {
  std::string shown(ref.substr(0, 128));
  return error{errc::not_found, "no container '" + shown + "'"};
}

}  // namespace dockmesh::common
