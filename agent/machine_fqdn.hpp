// machine_fqdn: the name this machine gives itself, fully qualified when the resolver knows
// more (what `hostname --fqdn` prints): the agent's fqdn when --fqdn is not given. Start-up
// only, called from main; getaddrinfo may block on DNS, which start-up tolerates.
#pragma once

#include <string>

namespace dockmesh::agent {

// Throws std::runtime_error when the host name cannot be read.
std::string machine_fqdn();

}  // namespace dockmesh::agent
