// docker_calls: small helpers every action handler uses on top of docker_transport: JSON in and
// out, container lookup with the ownership check, filters, and making Docker's bytes safe to put
// in a reply (valid UTF-8). Pure functions over the transport they are given; worker threads.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/action_context.hpp"
#include "agent/docker_grammar.hpp"
#include "common/ownership.hpp"

namespace dockmesh::agent {

using common::owner_label;
inline constexpr std::string_view request_label = "dockmesh.request";
inline constexpr std::string_view instance_label = "dockmesh.instance";
inline constexpr std::string_view template_label = "dockmesh.template";

result<nlohmann::json> get_json(docker_transport& docker, const std::string& path);
result<nlohmann::json> post_json(docker_transport& docker, const std::string& path,
                                 const nlohmann::json& body,
                                 std::chrono::milliseconds timeout = {});
result<docker_response> post_empty(docker_transport& docker, const std::string& path,
                                   std::chrono::milliseconds timeout = {});

// Looks the container up (GET /containers/{id}/json) and checks that the request may act on it
// (common/ownership): another user's container answers exactly like a missing one.
result<nlohmann::json> load_owned_container(action_context& ctx, const std::string& id);

// The owner rule (common::may_act) on a label map (inspect's Config.Labels or a list entry's
// Labels); a refusal is common::no_such_container(container).
common::result<void> check_owner(const action_request& request, const nlohmann::json& labels,
                                 std::string_view container);
bool visible_to(const action_request& request, const nlohmann::json& labels);

// A "filters" query value: {"label": [...], ...} as Docker wants it.
std::string filters_json(const nlohmann::json& filters);

// Docker's 304 (already started / already stopped) is a success with a note.
nlohmann::json with_note(nlohmann::json body, int docker_status, std::string_view note);

}  // namespace dockmesh::agent
