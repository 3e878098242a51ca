// policy_options: the agent's --policy-* options and --allow-exec (also settable in its config
// file), from which the host's create policy (common/create_policy) is built at start. A bad value
// is a start-up error: the agent prints one line and exits. Start-up only, main thread.
#pragma once

#include <boost/program_options.hpp>

#include "common/create_policy.hpp"

namespace dockmesh::agent {

void add_policy_options(boost::program_options::options_description& options);
// Throws std::runtime_error naming the option on a bad value.
common::create_policy policy_from(const boost::program_options::variables_map& vm);

}  // namespace dockmesh::agent
