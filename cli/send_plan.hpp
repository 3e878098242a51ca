// send_plan: turns the DockerMod-style JSON message of `dockmeshctl send` into a bus request.
// The `action` key becomes the envelope's action, `host` (or --host) picks req/host/<fqdn>/,
// --all broadcasts on req/all/. Without either, the action's catalogue entry decides: a scheduled
// action (create-container) goes to req/any/ (the broker places it), a container action with only
// an `id`/`name` needs the broker's directory to find its host first (route::lookup), and so does
// an action the catalogue does not know (the agent will answer it with a 400). Every other field
// is the body. Pure functions, any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/envelope.hpp"
#include "common/protocol/catalogue.hpp"
#include "common/result.hpp"

namespace dockmesh::cli {

struct send_options {
  std::string host;  // --host; empty if not given
  bool all = false;  // --all
  std::string user = "admin";
};

enum class send_route { host, any, all, lookup };

struct send_plan {
  send_route route = send_route::host;
  std::string topic;         // empty while route == lookup
  std::string lookup_ref;    // route::lookup: the id or name to ask the directory about
  common::envelope request;  // action, user, role, body; id/from/reply_to are filled at send
  // How long the action itself may take on the agent: stop/restart wait for the container's stop
  // timeout (Docker's default is 10 s). The CLI waits at least this long unless --timeout is set.
  std::chrono::milliseconds min_wait{0};
};

common::result<send_plan> plan_send(
    std::string_view message_json, const send_options& options,
    const common::protocol::catalogue& cat = common::protocol::catalogue::builtin());

// Completes a route::lookup plan once the directory named the container's host.
common::result<void> resolve_host(send_plan& plan, std::string_view fqdn);

}  // namespace dockmesh::cli
