// container_spec: from create-container arguments to Docker's POST /containers/create body.
// validate_create() checks every field against Docker's grammar and the agent's policy (reserved
// dockmesh.* labels; host-path binds only for admins or from a template) and names the field it
// refuses. docker_create_body() adds the ownership labels. Pure functions, any thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "agent/action_context.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {

struct create_policy {
  bool allow_host_binds = false;  // admins, and binds that came from a template
};

common::result<void> validate_create(const common::create_container_args& a,
                                     const create_policy& policy);

// Name of instance `index` (1-based) of `count`: "name" when count == 1, "name-<index>" otherwise;
// empty when no name was asked for (Docker picks one).
std::string instance_name(const common::create_container_args& a, int index);

nlohmann::json docker_create_body(const common::create_container_args& a,
                                  const action_request& request, int index);

}  // namespace dockmesh::agent
