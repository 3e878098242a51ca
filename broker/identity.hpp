// identity: who a connection is, as the broker's ZAP handler named it. ZAP gives every CURVE
// connection a User-Id `<role>:<name>` (agent:host1.mesh.test, bridge:bridge, admin:admin,
// pending:<public key>, broker:broker for peer brokers); this file parses it back without
// trusting it to be well-formed. Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dockmesh::broker {

enum class role { agent, bridge, admin, broker, pending, unknown };

std::string_view to_string(role r);
// "agent", "bridge", "admin", "broker"; pending/unknown are not roles a key can be given.
std::optional<role> parse_key_role(std::string_view s);

struct identity {
  role who = role::unknown;
  std::string name;  // fqdn for agents, key name otherwise, public key for pending
  std::string user_id() const;
  bool operator==(const identity&) const = default;
};

// "agent:host1" -> {agent, "host1"}; anything malformed -> {unknown, ""}.
identity parse_user_id(std::string_view user_id);

}  // namespace dockmesh::broker
