#include "agent/action_pool.hpp"

#include "agent/action_dispatcher.hpp"
#include "agent/action_handlers.hpp"
#include "agent/agent_inbox.hpp"
#include "agent/agent_metrics.hpp"
#include "agent/endpoint_allowlist.hpp"
#include "common/log.hpp"
#include "common/protocol/catalogue.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::agent {
namespace {

using nlohmann::json;

action_request request_from(const common::envelope& e) {
  return action_request{e.id, e.action, e.user, e.role, e.body, e.attempt};
}

// A state-changing action on containers (not images): the catalogue's word. Such actions change
// the host's inventory.
bool changes_containers(const std::string& action) {
  namespace p = common::protocol;
  const auto* spec = p::catalogue::builtin().find(action, p::message_kind::agent_action);
  return spec && spec->changes_state && spec->target != p::message_target::host;
}

common::envelope reply_from(const common::envelope& request, const std::string& fqdn,
                            action_reply r) {
  common::envelope reply = common::make_reply(request, fqdn, r.code, std::move(r.body));
  reply.err = std::move(r.err);
  return reply;
}

}  // namespace

action_pool::action_pool(zmq::context_t& ctx, action_pool_options options)
    : ctx_(ctx), options_(std::move(options)) {
  options_.docker.cancel = &cancel_;
  for (int i = 0; i < std::max(1, options_.workers); ++i) threads_.emplace_back([this] { run(); });
}

action_pool::~action_pool() {
  stop();
}

bool action_pool::submit(job j) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    if (j.kind != job_kind::action) {
      queue_.push_front(std::move(j));  // housekeeping is small and keeps the directory fresh
    } else {
      if (queue_.size() >= options_.max_queue) return false;
      queue_.push_back(std::move(j));
    }
  }
  ready_.notify_one();
  return true;
}

void action_pool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cancel_ = true;
  ready_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void action_pool::run() {
  docker_client docker(options_.docker);
  inbox_sender inbox(ctx_, options_.inbox_endpoint);
  for (;;) {
    job j;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    run_job(j, docker, inbox);
  }
}

void action_pool::run_job(job& j, docker_client& docker, inbox_sender& inbox) {
  if (j.kind == job_kind::host_facts) {
    allowlisted_transport gate(docker, std::string(job_host_facts));
    auto facts = read_host_facts(gate);
    if (facts)
      inbox.send(inbox_kind::facts, to_json(*facts).dump());
    else
      inbox.send(inbox_kind::facts_failed, facts.err().message);
    return;
  }
  if (j.kind == job_kind::inventory) {
    send_inventory(docker, inbox, false);
    return;
  }
  const std::string& fqdn = options_.self.fqdn;
  progress_sink progress = [&](const json& p) {
    common::envelope e;
    e.id = common::new_message_id();
    e.action = common::protocol::names::pull_progress;
    e.from = fqdn;
    e.user = j.request.user;  // the bridge shows pull progress to this user and admins only
    e.body = p;
    inbox.send(inbox_kind::event, common::encode(e));
  };
  auto started = std::chrono::steady_clock::now();
  action_reply r =
      run_action(request_from(j.request), docker, options_.templates, options_.self, progress);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started);
  // Request bodies are never logged: they may hold registry credentials.
  DM_LOG(debug) << j.request.action << " " << j.request.id << " -> " << r.code << " in "
                << ms.count() << " ms";
  agent_metrics::get().request(
      j.request.action, r.code,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (j.request.action == common::protocol::names::start_container && r.code == 200 &&
      r.body.is_object() && r.body.value("id", json()).is_string()) {
    // Docker answered that the container runs: the bus thread sets that state on its copy (one
    // list call less on the path of every `docker run`). The start's Docker events re-read the
    // whole inventory a moment later, so a container that has already exited shows so then.
    send_state_patch(inbox, r.body["id"].get<std::string>(), "running");
  } else if (changes_containers(j.request.action)) {
    auto inv = send_inventory(docker, inbox, true);
    if (j.request.action == common::protocol::names::create_container) {
      allowlisted_transport gate(docker, j.request.action);
      name_created_containers(r, inv ? &*inv : nullptr, gate, options_.self.created.get());
    }
  }
  inbox.send(inbox_kind::reply, common::encode(reply_from(j.request, fqdn, std::move(r))));
}

std::optional<std::vector<inventory_entry>> action_pool::send_inventory(docker_client& docker,
                                                                        inbox_sender& inbox,
                                                                        bool after_action) {
  std::uint64_t gen = ++inventory_gen_;
  allowlisted_transport gate(docker, std::string(job_inventory));
  auto inv = inventory_.read(gate);
  if (!inv) {
    if (!after_action) inbox.send(inbox_kind::inventory_failed, inv.err().message);
    return std::nullopt;
  }
  inbox.send(
      inbox_kind::inventory,
      json{{"gen", gen}, {"after_action", after_action}, {"containers", to_json(*inv)}}.dump());
  return std::move(*inv);
}

void action_pool::send_state_patch(inbox_sender& inbox, const std::string& id,
                                   const std::string& state) {
  std::uint64_t gen = ++inventory_gen_;
  inbox.send(
      inbox_kind::inventory,
      json{{"gen", gen}, {"after_action", true}, {"patch", {{"id", id}, {"state", state}}}}.dump());
}

}  // namespace dockmesh::agent
