// service_spec: what a service asks for (schemas/service-create.json, "spec"): image, command,
// env, ports, volumes, memory/cpus, restart policy, health check, replicas, placement, update and
// reschedule policies. Kept as JSON (it travels as JSON and is stored as msgpack); this module
// checks one against the schema's rules, fills the defaults, applies a partial update, and builds
// the create-container body of one replica. Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dockmesh::common {

// A project or service name: [a-z0-9][a-z0-9-]{0,30} (it becomes part of container names).
bool valid_object_name(std::string_view name);

// Checks `spec` (unknown fields, types, bounds) and returns it with every default filled in.
// `partial`: an update, where image may be missing and no defaults are added.
result<nlohmann::json> check_service_spec(const nlohmann::json& spec, bool partial = false);

// `current` (complete) with the fields of `patch` (checked, partial) replacing its own; nested
// objects (placement, update, reschedule) are merged field by field.
result<nlohmann::json> merge_service_spec(const nlohmann::json& current,
                                          const nlohmann::json& patch);

// Whether two complete specs differ in what their containers run (replicas and policies aside):
// a change of these needs new containers (a rolling update).
bool container_spec_differs(const nlohmann::json& a, const nlohmann::json& b);

// `spec` with the container fields (image, cmd, env, ...) of `from`; replicas and policies stay.
nlohmann::json with_container_fields(const nlohmann::json& spec, const nlohmann::json& from);

// The create-container body for one replica of a service (no name, no labels: the caller adds
// them).
nlohmann::json replica_create_body(const nlohmann::json& spec);

}  // namespace dockmesh::common
