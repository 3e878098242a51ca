#include "agent/agent.hpp"

#include <sstream>

#include "agent/action_pool.hpp"
#include "agent/bus_loop.hpp"
#include "agent/created_containers.hpp"
#include "agent/event_follower.hpp"

namespace dockmesh::agent {

agent::agent(zmq::context_t& ctx, agent_options options) : ctx_(ctx), options_(std::move(options)) {
  std::ostringstream ep;
  ep << "inproc://dockmesh-agent-inbox-" << static_cast<const void*>(this);
  inbox_endpoint_ = ep.str();
  if (!options_.self.created) options_.self.created = std::make_shared<created_containers>();
}

agent::~agent() {
  stop();
}

void agent::start() {
  // Workers and the follower connect to the inbox before it is bound: inproc allows that, and
  // their first messages simply wait for the bus thread.
  pool_ = std::make_unique<action_pool>(
      ctx_, action_pool_options{inbox_endpoint_, options_.docker, options_.templates, options_.self,
                                options_.workers, options_.max_queue});
  follower_ =
      std::make_unique<event_follower>(ctx_, inbox_endpoint_, options_.docker, options_.self.fqdn);
  try {
    // After ready() only ZeroMQ failures (context gone) can end run() with an exception; the
    // actor logs it, and the process is stopping anyway.
    bus_thread_.start([this] {
      bus_loop loop(ctx_, options_, inbox_endpoint_, *pool_, bus_thread_);
      bus_thread_.ready();
      loop.run();
    });
  } catch (...) {
    follower_.reset();
    pool_.reset();
    throw;
  }
}

void agent::stop() {
  bus_thread_.stop();  // sends `unregister` first
  if (follower_) follower_->stop();
  if (pool_) pool_->stop();
  follower_.reset();
  pool_.reset();
}

}  // namespace dockmesh::agent
