// create_policy: what a non-admin may ask for at create-container and pull-image, on one host.
// The agent enforces it on every non-admin create path (single, instances, template, scheduled:
// they all end in the agent's create handler) and reports it in `host-info`; the bridge checks the
// same rules early so that a user gets a 403 naming the field before anything is sent. Defaults
// deny: host namespaces, privileged mode, capabilities, devices, sysctls, security options (none
// of them can be lifted per host), host networking, host-path binds outside the allowed prefixes,
// published ports outside the allowed range, and pulls from registries not on the allow-list.
// Checks that need Docker (whose container a `container:<id>` network names, whose volume a bind
// names) are left to the agent: check_create() returns those references. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/action_args.hpp"
#include "common/ownership.hpp"
#include "common/result.hpp"

namespace dockmesh::common {

struct create_policy {
  std::vector<std::string> bind_prefixes;  // absolute host directories non-admins may bind
  std::int64_t port_min = 1024;            // published host ports non-admins may use
  std::int64_t port_max = 65535;
  std::vector<std::string> registries;  // registries non-admins may pull from ("docker.io", ...)
  bool host_network = false;            // non-admins may use network_mode "host"
};
nlohmann::json to_json(const create_policy& p);
result<create_policy> create_policy_from_json(const nlohmann::json& j);
// Checks an admin's configuration: absolute, normalised prefixes; 1 <= min <= max <= 65535.
result<void> validate_policy(const create_policy& p);

// Request fields (ours and Docker's spellings) that would widen a container's privileges. No
// create request from a non-admin may carry one, whatever the host's policy.
const std::vector<std::string_view>& forbidden_create_fields();

// Refuses (errc::forbidden, naming the field) a raw create body that carries a forbidden field.
// Runs before argument parsing so that the refusal names the field rather than "unknown field".
result<void> check_forbidden_fields(const nlohmann::json& body);

// What the agent must still look up: named volumes (field + name) and a container network.
struct owned_refs {
  std::vector<std::pair<std::string, std::string>> volumes;  // {"binds[0]", "data"}
  std::string network_container;                             // the <id> of "container:<id>"
};

// The policy's rules on parsed arguments, for a non-admin (admins get empty refs, never an error).
result<owned_refs> check_create(const create_container_args& a, const create_policy& p, role r);

// The registry an image reference pulls from ("docker.io" when it names none). An allow-list
// entry without a port ("localhost") allows that host on any port.
std::string registry_of(std::string_view image);
result<void> check_pull(std::string_view image, const create_policy& p, role r);

}  // namespace dockmesh::common
