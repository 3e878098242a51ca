// identity: who a connection is, as the broker's ZAP handler named it. ZAP gives every CURVE
// connection a User-Id `<role>:<name>` (agent:host1.mesh.test, bridge:bridge, admin:admin,
// pending:<public key>, broker:broker for peer brokers); this file parses it back without
// trusting it to be well-formed. Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/protocol/role.hpp"

namespace dockmesh::broker {

// The role enum is the protocol's (common/protocol/role.hpp): the catalogue names senders by it.
using common::protocol::parse_key_role;
using common::protocol::role;
using common::protocol::to_string;

struct identity {
  role who = role::unknown;
  std::string name;  // fqdn for agents, key name otherwise, public key for pending
  std::string user_id() const;
  bool operator==(const identity&) const = default;
};

// "agent:host1" -> {agent, "host1"}; anything malformed -> {unknown, ""}.
identity parse_user_id(std::string_view user_id);

}  // namespace dockmesh::broker
