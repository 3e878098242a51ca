// agent: the bus side of dockmesh-agent. start() spawns the bus thread, which alone owns the
// bus_client and the inbox PULL socket: it registers, heartbeats every second, announces the
// inventory on start and on every container change, answers `reannounce`, takes requests from
// req/host/<fqdn>/ and req/all/ (answering retries from its request cache) and hands them to the
// action_pool, whose results come back through the inbox and are published as replies. The
// event_follower feeds Docker events and dockerd's up/down state the same way. The bus thread is
// a common::actor: stop() raises its stop flag and wakes it (even while it still waits for a
// broker or for the host's facts); it sends `unregister` and exits, then the workers and the
// follower are stopped.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "agent/action_context.hpp"
#include "agent/docker_client.hpp"
#include "common/actor.hpp"
#include "common/bus_client.hpp"

namespace dockmesh::agent {

struct agent_options {
  agent_identity self;
  common::bus_client_options bus;
  docker_client_options docker;
  const template_store* templates = nullptr;
  int workers = 4;
  std::size_t max_queue = 1000;
  // Answers remembered for retries (and 2 MB at most). A retry older than that is carried out
  // again; create-container still makes no second container (it looks for its request label).
  std::size_t request_cache = 1024;
  std::chrono::milliseconds heartbeat_every{1000};
  std::chrono::milliseconds refresh_every{30000};  // host facts and inventory, besides events
  std::chrono::milliseconds ready_timeout{3000};   // wait for the bus before `register`
  std::size_t max_streams = 64;                    // open follow streams (docs/streams.md)
  std::chrono::milliseconds stream_lease{10000};   // a reader silent this long loses its stream
};

class agent {
 public:
  agent(zmq::context_t& ctx, agent_options options);
  ~agent();
  agent(const agent&) = delete;
  agent& operator=(const agent&) = delete;

  void start();  // returns once the bus thread is running; throws if it could not start
  void stop();   // unregister, then stop every thread; idempotent

 private:
  zmq::context_t& ctx_;
  agent_options options_;
  std::string inbox_endpoint_;
  std::unique_ptr<class action_pool> pool_;
  std::unique_ptr<class event_follower> follower_;
  common::actor bus_thread_{"agent bus"};  // last: joined before the pool and follower go
};

}  // namespace dockmesh::agent
