// job_runner's service-update jobs (see job_runner.hpp): one job follows one rolling update.
// The reconciler's service-reconcile events make the progress prompt; a service-get every
// second per running job is what makes it certain (an event can be missed: a broker restart, a
// bridge that subscribed late), and it checks the deadline. The state machine is
// service_update_job.cpp; this file only feeds it.
#include <boost/asio/steady_timer.hpp>

#include "common/protocol/names.hpp"
#include "common/topic.hpp"
#include "ui-bridge/job_runner.hpp"
#include "ui-bridge/json_fields.hpp"
#include "ui-bridge/service_update_job.hpp"

namespace dockmesh::bridge {

namespace names = common::protocol::names;
using namespace std::chrono_literals;

namespace {

// One service-get per running job per second: a batch takes at least `running_s` (default 5 s),
// so the poll adds at most a second to what the events already told, at 1 control call/s/job.
constexpr auto update_poll = 1s;

}  // namespace

common::result<job> job_runner::start_service_update(const principal& who,
                                                     const nlohmann::json& record) {
  auto j = jobs_.create(std::string(service_update_kind), who.user_id, common::now_ms());
  if (!j) return j.err();
  std::string id = j->id;
  auto deadline =
      common::now_ms() +
      std::chrono::duration_cast<std::chrono::milliseconds>(service_update_deadline).count();
  auto started = jobs_.update(id, common::now_ms(),
                              [&](job& x) { x.progress = update_progress(record, deadline); });
  changed(started);
  {
    std::lock_guard lock(mutex_);
    updates_[id] = followed_update{who, text_of(record, "id")};
  }
  poll_update(id);
  return started ? *started : *j;
}

void job_runner::poll_update(const std::string& job_id) {
  auto t = std::make_shared<boost::asio::steady_timer>(timers_, update_poll);
  t->async_wait([this, t, job_id](auto ec) {
    if (ec) return;
    nlohmann::json body;
    {
      std::lock_guard lock(mutex_);
      auto it = updates_.find(job_id);
      if (it == updates_.end()) return;  // ended by an event meanwhile
      body = {{"service", it->second.service},
              {"user", it->second.who.user_id},
              {"admin", it->second.who.is_admin()}};
    }
    gateway_.control(std::string(names::service_get), std::move(body),
                     [this, job_id](common::result<common::envelope> r) {
                       update_polled(job_id, std::move(r));
                     });
  });
}

void job_runner::update_polled(const std::string& job_id, common::result<common::envelope> r) {
  // A broker that does not answer (restart, election) is not the end of the update: the next
  // poll asks again, and the deadline bounds how long.
  auto j = advance_update(job_id, [&](job& x) {
    if (r && r->code == 200) apply_service_status(x, r->body);
    if (r && r->code == 404) service_gone(x);
    check_update_deadline(x, common::now_ms());
  });
  if (j && j->state == job_state::running) poll_update(job_id);
}

void job_runner::on_reconcile(const common::bus_message& m) {
  const auto& body = m.env.body;
  std::string service = text_of(body, "service");
  std::vector<std::string> job_ids;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, u] : updates_)
      if (u.service == service) job_ids.push_back(id);
  }
  for (const auto& id : job_ids) advance_update(id, [&](job& x) { apply_reconcile_step(x, body); });
}

// Events and control replies both arrive on the bus thread, so a job is read and written by one
// thread at a time. Only a change is stored and pushed: a poll that learns nothing costs no
// RocksDB write and no WebSocket frame.
std::optional<job> job_runner::advance_update(const std::string& job_id,
                                              const std::function<void(job&)>& step) {
  auto now = common::now_ms();
  auto before = jobs_.get(job_id, now);
  if (!before || before->state != job_state::running) {
    forget_update(job_id);
    return std::nullopt;
  }
  job after = *before;
  step(after);
  if (after.state == before->state && after.progress == before->progress) return before;
  auto j = jobs_.update(job_id, now, [&](job& x) { x = after; });
  changed(j);
  if (!j || j->state != job_state::running) forget_update(job_id);
  return j;
}

void job_runner::forget_update(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  updates_.erase(job_id);
}

}  // namespace dockmesh::bridge
