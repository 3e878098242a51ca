// create_guard: the agent's enforcement of common/create_policy for one create-container request
// from a non-admin: forbidden fields (in the request and in the template-merged spec), the host's
// policy, then what needs Docker: a `container:<id>` network must name one of the caller's own
// containers, and every named volume in `binds` must be the caller's. A named volume that does not
// exist yet is created here, labelled with the caller's user id (Docker's create is idempotent by
// name, so the owner is checked on what it returns: of two racing users only one gets it).
// Admins pass untouched. Runs on the action's worker thread; blocks on Docker only.
#pragma once

#include <nlohmann/json.hpp>

#include "agent/action_context.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {

common::result<void> enforce_create_policy(action_context& ctx, const nlohmann::json& merged,
                                           const common::create_container_args& a);

// pull-image: the registry allow-list of this host's policy (admins pass).
common::result<void> enforce_pull_policy(const action_context& ctx, std::string_view image);

}  // namespace dockmesh::agent
