// endpoint_allowlist: the fixed set of Docker endpoints (method + path pattern) each action may
// reach, and allowlisted_transport, the decorator every action handler gets instead of the raw
// client: a call outside its action's list fails with errc::forbidden before any byte leaves the
// agent. Patterns are '/'-separated; "{}" matches exactly one non-empty, percent-escaped segment
// that is not "." or "..". The query may hold only escaped characters, '=' and '&'.
// The table is static and immutable; the decorator belongs to the thread running the action.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "agent/docker_transport.hpp"

namespace dockmesh::agent {

struct docker_endpoint {
  http_method method;
  std::string_view pattern;
};

// Internal jobs that are not bus actions but also go through the allowlist.
inline constexpr std::string_view job_host_facts = "$host-facts";
inline constexpr std::string_view job_inventory = "$inventory";
inline constexpr std::string_view job_events = "$events";

// The endpoints of `action` (catalogue agent actions, their aliases and the internal jobs
// above); empty if unknown.
std::span<const docker_endpoint> endpoints_for(std::string_view action);
// Every name the table is keyed by (aliases are not: they use their entry's), for tests.
std::span<const std::string_view> allowlisted_actions();

bool path_matches(std::string_view pattern, std::string_view path);  // path without query
bool endpoint_allowed(std::string_view action, http_method method, std::string_view path_and_query);

class allowlisted_transport final : public docker_transport {
 public:
  allowlisted_transport(docker_transport& inner, std::string action)
      : inner_(inner), action_(std::move(action)) {}
  result<docker_response> call(const docker_request& request) override;
  result<docker_response> stream(const docker_request& request, const chunk_sink& sink) override;

 private:
  common::result<void> check(const docker_request& request) const;
  docker_transport& inner_;
  std::string action_;
};

}  // namespace dockmesh::agent
