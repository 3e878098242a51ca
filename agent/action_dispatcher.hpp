// action_dispatcher: from an action name to its handler, derived from the protocol catalogue
// (common/protocol/catalogue.hpp). Construction checks that every agent action of the catalogue
// has a handler and every handler an agent action (an alias runs the handler of the entry it
// stands for), and throws naming the odd one: the agent checks the built-in table at start-up.
// run() refuses unknown actions (400 naming the action; nothing is ever passed raw to Docker),
// gives the handler a transport restricted to that action's allowlisted endpoints, and never lets
// an exception escape: a handler bug becomes a 500 reply, not a dead worker. Immutable after
// construction; run() is called on worker threads.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/action_context.hpp"
#include "common/protocol/catalogue.hpp"

namespace dockmesh::agent {

struct action_entry {
  std::string_view name;       // the catalogue entry's name (aliases included)
  std::string_view canonical;  // the entry an alias stands for; == name otherwise
  action_handler handler;
};

// Handlers by the name of the (non-alias) catalogue entry they serve.
using handler_map = std::map<std::string, action_handler, std::less<>>;

class action_dispatcher {
 public:
  // Throws std::logic_error when handlers and the catalogue's agent actions do not match.
  action_dispatcher(const common::protocol::catalogue& cat, handler_map handlers);
  // The agent's handlers over the built-in catalogue.
  static const action_dispatcher& builtin();

  std::span<const action_entry> entries() const { return entries_; }
  const action_entry* find(std::string_view action) const;
  action_reply run(const action_request& request, docker_transport& docker,
                   const template_store* templates, const agent_identity& self,
                   const progress_sink& progress, stream_channel* stream = nullptr) const;

 private:
  std::vector<action_entry> entries_;
};

// The built-in dispatcher's entries, membership and run().
std::span<const action_entry> action_table();
bool is_known_action(std::string_view action);
action_reply run_action(const action_request& request, docker_transport& docker,
                        const template_store* templates, const agent_identity& self,
                        const progress_sink& progress, stream_channel* stream = nullptr);

}  // namespace dockmesh::agent
