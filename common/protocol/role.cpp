#include "common/protocol/role.hpp"

namespace dockmesh::common::protocol {

std::string_view to_string(role r) {
  switch (r) {
    case role::agent:
      return "agent";
    case role::bridge:
      return "bridge";
    case role::admin:
      return "admin";
    case role::broker:
      return "broker";
    case role::pending:
      return "pending";
    case role::unknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<role> parse_key_role(std::string_view s) {
  for (role r : {role::agent, role::bridge, role::admin, role::broker})
    if (s == to_string(r)) return r;
  return std::nullopt;
}

}  // namespace dockmesh::common::protocol
