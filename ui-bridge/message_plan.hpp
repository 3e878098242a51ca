// message_plan: the pure half of `POST /api/v1/messages` (and of the WebSocket's messages). It
// checks a DockerMod-style message -- {"action": "...", "host"?: "<fqdn>", ...arguments} -- and
// decides where it may go. Everything about the action comes from the protocol catalogue
// (common/protocol/catalogue.hpp): it must be an agent action the bridge may send, admin-only
// actions need the admin role, its target says how it finds its agent, and the arguments (every
// field but action and host) must validate against the entry's body schema. Broadcasts are
// refused for every role. Nothing here touches the bus. Pure functions, any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/envelope.hpp"
#include "common/protocol/catalogue.hpp"
#include "common/result.hpp"
#include "ui-bridge/authenticator.hpp"
#include "ui-bridge/schema_registry.hpp"

namespace dockmesh::bridge {

// scheduled: req/any/ without a host, else req/host/<fqdn>/; host: needs "host";
// container: needs "id", sent to the container's host after an ownership check.
using action_kind = common::protocol::message_target;

struct action_rule {
  action_kind kind = action_kind::host;
  bool admin_only = false;
  std::chrono::milliseconds timeout{30000};
  std::string body_schema;  // schemas/<stem>.json; "" = the body must be empty
};

// nullopt for actions a client may not send (unknown ones, and bus-internal ones like register).
std::optional<action_rule> find_action_rule(
    std::string_view action,
    const common::protocol::catalogue& cat = common::protocol::catalogue::builtin());

struct message_plan {
  std::string action;
  std::string host;  // empty: create -> scheduler; container -> found from the directory
  nlohmann::json body = nlohmann::json::object();
  action_rule rule;
};

common::result<message_plan> plan_message(
    const nlohmann::json& message, const schema_registry& schemas, const principal& who,
    const common::protocol::catalogue& cat = common::protocol::catalogue::builtin());

// The request envelope for a plan (action, user, role, body); the bus actor adds the rest.
common::envelope make_request(const principal& who, const message_plan& plan);

// A container reference (id, id prefix or name) as Docker allows them: 1..128 characters of
// [a-zA-Z0-9_.-], not starting with a punctuation mark; one leading '/' is tolerated.
bool valid_container_ref(std::string_view ref);

// A container record as the broker's `container`/`containers` calls return it, and the check that
// `who` may act on it: admins may act on anything, users only on containers labelled as theirs.
common::result<void> check_owner(const principal& who, const nlohmann::json& container,
                                 const std::string& ref);

// A reply envelope as the bridge's clients see it: {id, from, code, body} or {..., error}.
nlohmann::json reply_json(const common::envelope& reply);
// The HTTP status of a reply (its code, or 502 when it carries none that HTTP knows).
int reply_status(const common::envelope& reply);

}  // namespace dockmesh::bridge
