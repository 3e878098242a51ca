#include "agent/agent.hpp"

#include <future>
#include <sstream>

#include "agent/action_pool.hpp"
#include "agent/agent_inbox.hpp"
#include "agent/bus_loop.hpp"
#include "agent/created_containers.hpp"
#include "agent/event_follower.hpp"
#include "common/log.hpp"

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
  std::promise<void> ready;
  auto started = ready.get_future();
  bus_thread_ = std::thread([this, &ready] {
    std::unique_ptr<bus_loop> loop;
    try {
      loop = std::make_unique<bus_loop>(ctx_, options_, inbox_endpoint_, *pool_);
    } catch (...) {
      ready.set_exception(std::current_exception());
      return;
    }
    ready.set_value();
    try {
      loop->run();
    } catch (const std::exception& e) {
      // Only ZeroMQ failures (context gone) can get here; the process is stopping anyway.
      DM_LOG(error) << "bus thread stopped: " << e.what();
    }
  });
  try {
    started.get();
  } catch (...) {
    bus_thread_.join();
    follower_.reset();
    pool_.reset();
    throw;
  }
}

void agent::stop() {
  if (bus_thread_.joinable()) {
    {
      inbox_sender stopper(ctx_, inbox_endpoint_);
      stopper.send(inbox_kind::stop);
    }
    bus_thread_.join();
  }
  if (follower_) follower_->stop();
  if (pool_) pool_->stop();
  follower_.reset();
  pool_.reset();
}

}  // namespace dockmesh::agent
