#include "broker/identity.hpp"

namespace dockmesh::broker {

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
