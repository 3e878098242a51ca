#include "agent/action_dispatcher.hpp"

#include <array>
#include <exception>

#include "agent/action_handlers.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/endpoint_allowlist.hpp"
#include "common/log.hpp"

namespace dockmesh::agent {
namespace {

constexpr std::array<action_entry, 18> table{{
    {"ping", handle_ping},
    {"host-info", handle_host_info},
    {"disk-usage", handle_disk_usage},
    {"list-containers", handle_list_containers},
    {"inspect-container", handle_inspect_container},
    {"create-container", handle_create_container},
    {"start-container", handle_start_container},
    {"stop-container", handle_stop_container},
    {"restart-container", handle_restart_container},
    {"kill-container", handle_kill_container},
    {"remove-container", handle_remove_container},
    {"delete-container", handle_remove_container},
    {"container-logs", handle_container_logs},
    {"container-stats", handle_container_stats},
    {"list-images", handle_list_images},
    {"inspect-image", handle_inspect_image},
    {"pull-image", handle_pull_image},
    {"remove-image", handle_remove_image},
}};

}  // namespace

std::span<const action_entry> action_table() {
  return table;
}

bool is_known_action(std::string_view action) {
  for (const auto& e : table)
    if (e.name == action) return true;
  return false;
}

action_reply run_action(const action_request& request, docker_transport& docker,
                        const template_store* templates, const agent_identity& self,
                        const progress_sink& progress) {
  for (const auto& e : table) {
    if (e.name != request.action) continue;
    allowlisted_transport gate(docker, std::string(e.name));
    action_context ctx{request, gate, templates, self, progress};
    try {
      return e.handler(ctx);
    } catch (const std::exception& ex) {
      // A bug, not bad input (inputs are checked before use): report it, keep the worker alive.
      DM_LOG(error) << "action " << request.action << " (request " << request.id
                    << ") failed: " << ex.what();
      return error_reply({common::errc::internal,
                          std::string("internal error in ") + request.action + ": " + ex.what()});
    }
  }
  return error_reply(
      {common::errc::invalid_argument, "unknown action '" + excerpt(request.action) + "'"});
}

}  // namespace dockmesh::agent
