// enrollment: an agent whose key the brokers do not know yet asks to be accepted with a one-time
// join token (`dockmesh-agent --join-token T`; an admin makes T with `dockmeshctl keys token
// create`). Sent once at start-up, before the bus connects, over the brokers' control endpoint,
// where unknown keys may call `enroll` and nothing else. Accepted: the bus is let in. Pending (no
// valid token): an admin must run `dockmeshctl keys accept`; the bus keeps reconnecting meanwhile.
// Runs on the calling thread (main) and blocks up to `timeout`.
#pragma once

#include <chrono>
#include <string>

#include <zmq.hpp>

#include "common/bus_client.hpp"

namespace dockmesh::agent {

enum class enrollment { accepted, pending, failed };

enrollment enroll(zmq::context_t& ctx, const common::bus_client_options& bus,
                  const std::string& fqdn, const std::string& token,
                  std::chrono::milliseconds timeout);

}  // namespace dockmesh::agent
