// action_pool: the small set of worker threads that talk to Docker, so that the bus thread never
// blocks on it (heartbeats keep their rhythm while a pull or a stop takes minutes). Each worker
// owns its own docker_client and its own inbox_sender; the bus thread submits jobs into a bounded
// queue (housekeeping jobs jump ahead of actions) and gets every result back through the inbox.
// Started and stopped by the owner of the agent; stop() cancels Docker calls in progress.
// Read your writes: after an action that changes containers, the worker re-reads the inventory
// and sends it to the inbox before the reply, so the bus thread announces it first and every
// broker has applied it by the time the reply passes through (same connection, in order).
// Inventory payloads carry the read's start order ("gen"), so an older read that finishes late
// never replaces a newer one. After a start, whose outcome Docker's answer tells, the worker sends
// only that container's new state (a "patch") instead of a full read.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "agent/action_context.hpp"
#include "agent/docker_client.hpp"
#include "agent/host_state.hpp"
#include "common/envelope.hpp"

namespace dockmesh::agent {

enum class job_kind { action, host_facts, inventory };

struct job {
  job_kind kind = job_kind::action;
  common::envelope request;  // for actions
};

struct action_pool_options {
  std::string inbox_endpoint;
  docker_client_options docker;
  const template_store* templates = nullptr;
  agent_identity self;
  int workers = 4;
  std::size_t max_queue = 1000;
};

class action_pool {
 public:
  action_pool(zmq::context_t& ctx, action_pool_options options);
  ~action_pool();
  action_pool(const action_pool&) = delete;
  action_pool& operator=(const action_pool&) = delete;

  // False when the queue is full (the caller answers 503).
  bool submit(job j);
  void stop();  // cancels calls in progress, joins the workers; idempotent

 private:
  void run();
  void run_job(job& j, docker_client& docker, class inbox_sender& inbox);
  // Reads the inventory and sends it to the inbox; returns what it read (nullopt if it failed).
  std::optional<std::vector<inventory_entry>> send_inventory(docker_client& docker,
                                                             class inbox_sender& inbox,
                                                             bool after_action);
  // Tells the bus thread one container's new state, known from Docker's answer, in the same
  // order as full reads ("gen"), instead of reading the whole list again.
  void send_state_patch(class inbox_sender& inbox, const std::string& id, const std::string& state);

  zmq::context_t& ctx_;
  action_pool_options options_;
  inventory_reader inventory_;
  std::atomic<std::uint64_t> inventory_gen_{0};
  std::atomic<bool> cancel_{false};
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace dockmesh::agent
