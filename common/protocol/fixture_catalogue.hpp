// fixture_catalogue: for tests only. The built-in catalogue plus one made-up agent action,
// "fixture-echo", defined by a single entry as a new action would be. The agent's, the bridge's
// and the CLI's tests use it to show that such an entry (plus, on the agent, one handler) is
// dispatched, validated, routed and refused to the wrong role without touching any other file.
#pragma once

#include <chrono>

#include "common/protocol/catalogue.hpp"

namespace dockmesh::common::protocol::testing {

inline constexpr std::string_view fixture_echo = "fixture-echo";
inline constexpr std::string_view fixture_admin = "fixture-admin-only";

// Its body schema, as schemas/fixture-echo.json would hold it.
inline nlohmann::json fixture_echo_schema() {
  return nlohmann::json::parse(R"({
    "type": "object", "additionalProperties": false, "required": ["id", "text"],
    "properties": {"id": {"type": "string", "minLength": 1},
                   "text": {"type": "string", "maxLength": 16},
                   "pause": {"type": "integer", "minimum": 0, "maximum": 60}}})");
}

inline const catalogue& fixture_catalogue() {
  static const catalogue c = [] {
    auto entries = builtin_messages();
    message_spec echo;
    echo.name = fixture_echo;
    echo.kind = message_kind::agent_action;
    echo.senders = {role::bridge, role::admin};
    echo.timeout = std::chrono::seconds(7);
    echo.target = message_target::container;
    echo.body_schema = fixture_echo;
    echo.reply_schema = std::string(fixture_echo) + ".reply";
    echo.wait_field = "pause";
    echo.label = "echo";
    entries.push_back(echo);
    message_spec admin = echo;
    admin.name = fixture_admin;
    admin.admin_only = true;
    admin.target = message_target::scheduled;
    admin.wait_field.clear();
    entries.push_back(admin);
    return catalogue(std::move(entries));
  }();
  return c;
}

}  // namespace dockmesh::common::protocol::testing
