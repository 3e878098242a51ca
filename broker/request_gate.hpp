// request_gate: whether a targeted request (req/host/<fqdn>/) may go on to its agent, decided on
// the directory alone so that the requester hears at once what the directory already knows:
//   host unknown              -> 404 naming it (only once the directory has settled after start)
//   host down or gone         -> 503 "host X is down since T"
//   create-container whose name (or <name>-<n> of its instances) is taken on any host
//                             -> 409 naming the host that has it (unless per_host_names)
// A pure function over the directory: owned by no one, runs on the hub thread, never blocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/container_index.hpp"
#include "broker/host_directory.hpp"
#include "common/envelope.hpp"

namespace dockmesh::broker {

struct gate_refusal {
  int code = 0;
  std::string message;
  nlohmann::json body;
};

// `settled`: the broker has been up long enough to have heard every live host (a just-started
// broker must not call a host unknown that simply has not announced itself to it yet).
std::optional<gate_refusal> check_targeted(std::string_view host, const common::envelope& req,
                                           const host_directory& hosts,
                                           const container_index& containers, bool settled);

// The same name rule for scheduled creates (req/any/): a taken name is refused before placing.
std::optional<gate_refusal> check_name_free(const common::envelope& req,
                                            const container_index& containers);

// "host X is down since 2026-11-28T21:40:00Z (reason)".
std::string host_down_message(const host_entry& h);

}  // namespace dockmesh::broker
