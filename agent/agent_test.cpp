#include "agent/agent.hpp"

#include <doctest/doctest.h>

#include <chrono>

#include "common/curve_keys.hpp"

using namespace dockmesh;
using steady = std::chrono::steady_clock;

TEST_CASE("agent: a stop while the bus thread still waits for a broker is prompt") {
  zmq::context_t ctx(1);
  agent::agent_options o;
  o.self.fqdn = "lonely.mesh.test";
  common::broker_address nobody;
  nobody.host = "127.0.0.1";
  nobody.port = 1;  // nothing listens on 1-3: the bus never becomes ready
  o.bus.brokers = {nobody};
  o.bus.keys = common::generate_keypair();
  o.bus.broker_public_key = common::generate_keypair().public_key;
  o.bus.client_id = "agent-test";
  o.docker.socket_path = "/nonexistent/dockmesh-agent-test/docker.sock";
  o.workers = 1;
  o.ready_timeout = std::chrono::seconds(30);  // the stop, not this, must end the wait
  agent::agent a(ctx, o);
  a.start();
  auto t0 = steady::now();
  a.stop();
  CHECK(steady::now() - t0 < std::chrono::seconds(2));
  a.stop();  // idempotent
}
