// action_dispatcher: from an action name to its handler. run_action() refuses unknown actions
// (400 naming the action; nothing is ever passed raw to Docker), gives the handler a transport
// restricted to that action's allowlisted endpoints, and never lets an exception escape: a
// handler bug becomes a 500 reply, not a dead worker. Stateless; called on worker threads.
#pragma once

#include <span>
#include <string_view>

#include "agent/action_context.hpp"

namespace dockmesh::agent {

struct action_entry {
  std::string_view name;
  action_handler handler;
};

std::span<const action_entry> action_table();
bool is_known_action(std::string_view action);

action_reply run_action(const action_request& request, docker_transport& docker,
                        const template_store* templates, const agent_identity& self,
                        const progress_sink& progress);

}  // namespace dockmesh::agent
