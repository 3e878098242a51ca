#include "agent/action_dispatcher.hpp"

#include <exception>
#include <stdexcept>

#include "agent/action_handlers.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/endpoint_allowlist.hpp"
#include "common/log.hpp"

namespace dockmesh::agent {
namespace {

namespace names = common::protocol::names;
using common::protocol::message_kind;

handler_map builtin_handlers() {
  return {
      {std::string(names::ping), handle_ping},
      {std::string(names::host_info), handle_host_info},
      {std::string(names::disk_usage), handle_disk_usage},
      {std::string(names::list_containers), handle_list_containers},
      {std::string(names::inspect_container), handle_inspect_container},
      {std::string(names::create_container), handle_create_container},
      {std::string(names::start_container), handle_start_container},
      {std::string(names::stop_container), handle_stop_container},
      {std::string(names::restart_container), handle_restart_container},
      {std::string(names::kill_container), handle_kill_container},
      {std::string(names::remove_container), handle_remove_container},
      {std::string(names::container_logs), handle_container_logs},
      {std::string(names::container_stats), handle_container_stats},
      {std::string(names::list_images), handle_list_images},
      {std::string(names::inspect_image), handle_inspect_image},
      {std::string(names::pull_image), handle_pull_image},
      {std::string(names::remove_image), handle_remove_image},
      {std::string(names::follow_logs), handle_follow_logs},
      {std::string(names::follow_stats), handle_follow_stats},
      {std::string(names::exec_start), handle_exec_start},
  };
}

}  // namespace

action_dispatcher::action_dispatcher(const common::protocol::catalogue& cat, handler_map handlers) {
  for (const auto* spec : cat.of_kind(message_kind::agent_action)) {
    const auto& canonical = cat.canonical(*spec);
    auto it = handlers.find(canonical.name);
    if (it == handlers.end())
      throw std::logic_error("agent action '" + spec->name + "' has no handler");
    entries_.push_back({spec->name, canonical.name, it->second});
  }
  for (const auto& [name, _] : handlers) {
    const auto* spec = cat.find(name, message_kind::agent_action);
    if (!spec || !spec->alias_of.empty())
      throw std::logic_error("handler '" + name + "' serves no agent action of the catalogue");
  }
}

const action_dispatcher& action_dispatcher::builtin() {
  static const action_dispatcher d(common::protocol::catalogue::builtin(), builtin_handlers());
  return d;
}

const action_entry* action_dispatcher::find(std::string_view action) const {
  for (const auto& e : entries_)
    if (e.name == action) return &e;
  return nullptr;
}

action_reply action_dispatcher::run(const action_request& request, docker_transport& docker,
                                    const template_store* templates, const agent_identity& self,
                                    const progress_sink& progress, stream_channel* stream) const {
  const auto* e = find(request.action);
  if (!e)
    return error_reply(
        {common::errc::invalid_argument, "unknown action '" + excerpt(request.action) + "'"});
  allowlisted_transport gate(docker, std::string(e->canonical));
  action_context ctx{request, gate, templates, self, progress, stream};
  try {
    return e->handler(ctx);
  } catch (const std::exception& ex) {
    // A bug, not bad input (inputs are checked before use): report it, keep the worker alive.
    DM_LOG(error) << "action " << request.action << " (request " << request.id
                  << ") failed: " << ex.what();
    return error_reply({common::errc::internal,
                        std::string("internal error in ") + request.action + ": " + ex.what()});
  }
}

std::span<const action_entry> action_table() {
  return action_dispatcher::builtin().entries();
}

bool is_known_action(std::string_view action) {
  return action_dispatcher::builtin().find(action) != nullptr;
}

action_reply run_action(const action_request& request, docker_transport& docker,
                        const template_store* templates, const agent_identity& self,
                        const progress_sink& progress, stream_channel* stream) {
  return action_dispatcher::builtin().run(request, docker, templates, self, progress, stream);
}

}  // namespace dockmesh::agent
