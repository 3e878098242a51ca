// action_context: what an action handler receives (the request as parsed from the envelope, the
// Docker transport already restricted to its action's endpoints, the templates, who we are, and a
// sink for progress) and what it returns (an action_reply: code + body, or an error). Handlers run
// on a worker thread, one request at a time per worker, and must not touch ZeroMQ.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/docker_transport.hpp"
#include "common/create_policy.hpp"
#include "common/ownership.hpp"
#include "common/result.hpp"

namespace dockmesh::agent {

class template_store;
class stream_channel;
class created_containers;

struct action_request {
  std::string id;  // the envelope's request id (also the dockmesh.request label at create)
  std::string action;
  std::string user;  // the owner's immutable user id (set by the bridge or CLI); labels carry it
  std::string role;  // "admin" sees and may touch everything; anything else is a plain user
  nlohmann::json body;
  int attempt = 0;  // > 0: a retry of a request this or an earlier agent may have run
  common::role role_kind() const { return common::role_of_envelope(role); }
  bool is_admin() const { return role_kind() == common::role::admin; }
  common::principal_ref who() const { return {role_kind(), user}; }
};

struct action_reply {
  int code = 200;
  nlohmann::json body = nlohmann::json::object();
  std::optional<common::error> err;
};

struct agent_identity {
  std::string fqdn;
  std::map<std::string, std::string> labels;
  std::string agent_version;
  common::create_policy policy;  // what non-admins may ask of this host (create, pull)
  bool allow_exec = false;       // --allow-exec: exec-start sessions (off by default)
  // What this agent created lately (owner, name by full id); none in tests that build their own.
  std::shared_ptr<created_containers> created = nullptr;
};

// Receives progress records (pull-image) on the worker thread; they become events on the bus.
using progress_sink = std::function<void(const nlohmann::json& progress)>;

struct action_context {
  const action_request& request;
  docker_transport& docker;  // allowlisted for request.action
  const template_store* templates = nullptr;
  const agent_identity& self;
  const progress_sink& progress;
  stream_channel* stream = nullptr;  // stream openers only (follow-logs, follow-stats)
};

using action_handler = action_reply (*)(action_context& ctx);

inline action_reply ok_reply(nlohmann::json body, int code = 200) {
  return action_reply{code, std::move(body), std::nullopt};
}
inline action_reply error_reply(common::error e) {
  int code = common::to_status(e.code);
  return action_reply{code, nullptr, std::move(e)};
}

}  // namespace dockmesh::agent
