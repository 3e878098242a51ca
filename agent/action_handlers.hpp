// action_handlers: one function per agent action (docs/protocol.md). Each parses its arguments
// (common/action_args.hpp), checks them against Docker's grammar (docker_grammar.hpp), applies the
// ownership rules, and talks to Docker only through ctx.docker, which the dispatcher has already
// restricted to the action's allowlisted endpoints. They run on worker threads.
#pragma once

#include <vector>

#include "agent/action_context.hpp"
#include "agent/host_state.hpp"

namespace dockmesh::agent {

// host_actions.cpp
action_reply handle_ping(action_context& ctx);
action_reply handle_host_info(action_context& ctx);
action_reply handle_disk_usage(action_context& ctx);
// container_queries.cpp
action_reply handle_list_containers(action_context& ctx);
action_reply handle_inspect_container(action_context& ctx);
action_reply handle_container_logs(action_context& ctx);
action_reply handle_container_stats(action_context& ctx);
// container_lifecycle.cpp
action_reply handle_start_container(action_context& ctx);
action_reply handle_stop_container(action_context& ctx);
action_reply handle_restart_container(action_context& ctx);
action_reply handle_kill_container(action_context& ctx);
action_reply handle_remove_container(action_context& ctx);
// container_create.cpp
action_reply handle_create_container(action_context& ctx);
// A create's reply names each container Docker named: from the inventory read after the action
// (one list call the worker makes anyway), or by one inspect each when that read failed (null).
void name_created_containers(action_reply& reply, const std::vector<inventory_entry>* inventory,
                             docker_transport& docker, created_containers* created);
// image_actions.cpp
action_reply handle_list_images(action_context& ctx);
action_reply handle_inspect_image(action_context& ctx);
action_reply handle_pull_image(action_context& ctx);
action_reply handle_remove_image(action_context& ctx);
// follow_actions.cpp: stream openers; they run on a stream thread, with ctx.stream set
action_reply handle_follow_logs(action_context& ctx);
action_reply handle_follow_stats(action_context& ctx);
// exec_actions.cpp: an interactive exec session (a stream with input)
action_reply handle_exec_start(action_context& ctx);

}  // namespace dockmesh::agent
