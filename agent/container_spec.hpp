// container_spec: from create-container arguments to Docker's POST /containers/create body.
// validate_create() checks every field against Docker's grammar (and the reserved dockmesh.*
// labels) and names the field it refuses; what a non-admin may ask for is common/create_policy's
// business, applied before this. docker_create_body() adds the ownership labels. Pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "agent/action_context.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {

common::result<void> validate_create(const common::create_container_args& a);

// Name of instance `index` (1-based) of `count`: "name" when count == 1, "name-<index>" otherwise;
// empty when no name was asked for (Docker picks one).
std::string instance_name(const common::create_container_args& a, int index);

nlohmann::json docker_create_body(const common::create_container_args& a,
                                  const action_request& request, int index);

}  // namespace dockmesh::agent
