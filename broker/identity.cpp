#include "broker/identity.hpp"

namespace dockmesh::broker {

std::string_view to_string(role r) {
  switch (r) {
    case role::agent: return "agent";
    case role::bridge: return "bridge";
    case role::admin: return "admin";
    case role::broker: return "broker";
    case role::pending: return "pending";
    case role::unknown: return "unknown";
  }
  return "unknown";
}

std::optional<role> parse_key_role(std::string_view s) {
  if (s == "agent") return role::agent;
  if (s == "bridge") return role::bridge;
  if (s == "admin") return role::admin;
  if (s == "broker") return role::broker;
  return std::nullopt;
}

std::string identity::user_id() const {
  std::string s(to_string(who));
  s.push_back(':');
  s.append(name);
  return s;
}

identity parse_user_id(std::string_view user_id) {
  auto colon = user_id.find(':');
  if (colon == std::string_view::npos || colon + 1 >= user_id.size()) return {};
  std::string_view r = user_id.substr(0, colon);
  std::string_view name = user_id.substr(colon + 1);
  if (r == "pending") return {role::pending, std::string(name)};
  auto known = parse_key_role(r);
  if (!known) return {};
  return {*known, std::string(name)};
}

}  // namespace dockmesh::broker
