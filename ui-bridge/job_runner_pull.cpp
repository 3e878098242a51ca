// job_runner's image pulls (see job_runner.hpp): one job, one targeted pull-image per host.
#include "common/ownership.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"
#include "ui-bridge/job_runner.hpp"
#include "ui-bridge/json_fields.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
namespace names = common::protocol::names;

namespace {

bool finished(const nlohmann::json& host_progress) {
  auto s = text_of(host_progress, "state");
  return s == "done" || s == "failed";
}

void settle(job& j) {
  bool all = true, ok = true;
  for (auto& [h, p] : j.progress["hosts"].items()) {
    all = all && finished(p);
    ok = ok && text_of(p, "state") == "done";
  }
  if (!all) return;
  j.state = ok ? job_state::done : job_state::failed;
  j.status = ok ? 200 : 502;
  j.result = j.progress["hosts"];
  if (!ok) j.err = make_error(errc::unavailable, "the pull failed on at least one host");
}

// Every up host the caller may place on (common::pool_admits, the scheduler's rule), by the
// pool the `hosts` answer carries and the caller's teams.
std::vector<std::string> pool_hosts(const principal& who, const std::vector<std::string>& teams,
                                    const nlohmann::json& hosts) {
  std::vector<std::string> out;
  for (const auto& h : hosts) {
    std::string pool = text_of(h, "pool");
    if (text_of(h, "status") != "up") continue;
    if (common::pool_admits(pool, who.user_id, who.is_admin(), teams))
      out.push_back(text_of(h, "fqdn"));
    if (out.size() >= 256) break;
  }
  return out;
}

}  // namespace

void apply_pull_progress(nlohmann::json& host_progress, const nlohmann::json& event) {
  if (!event.is_object()) return;
  if (auto status = text_of(event, "status"); !status.empty()) host_progress["status"] = status;
  std::string layer = text_of(event, "layer");
  if (layer.empty() || !event.contains("total")) return;
  auto& layers = host_progress["layers"];
  if (!layers.is_object()) layers = nlohmann::json::object();
  if (layers.size() >= 256 && !layers.contains(layer)) return;  // bound what one pull may store
  layers[layer] = {{"current", integer_of(event, "current")},
                   {"total", integer_of(event, "total")}};
  std::int64_t current = 0, total = 0;
  for (auto& [id, l] : layers.items()) {
    current += integer_of(l, "current");
    total += integer_of(l, "total");
  }
  host_progress["current"] = current;
  host_progress["total"] = total;
}

common::result<job> job_runner::start_pull(const principal& who, const nlohmann::json& request) {
  auto req = parse_pull_request(request, gateway_.schemas());
  if (!req) return req.err();
  auto j = jobs_.create(std::string(names::pull_image), who.user_id, common::now_ms());
  if (!j) return j.err();
  std::string id = j->id;
  changed(jobs_.update(id, common::now_ms(), [&](job& x) {
    x.progress = {{"image", req->image}, {"hosts", nlohmann::json::object()}};
    for (auto& h : req->hosts) x.progress["hosts"][h] = {{"state", "waiting"}};
  }));
  if (!req->pools || who.is_admin()) {
    list_hosts(id, who, std::move(*req));
    return *jobs_.get(id, common::now_ms());
  }
  // A user's pools include its teams': without an answer the user gets the shared pool and its
  // own (the pull then goes to fewer hosts, never to one it may not use).
  gateway_.control(
      std::string(names::team_list), {{"user", who.user_id}, {"admin", false}},
      [this, id, who, req = std::move(*req)](common::result<common::envelope> r) mutable {
        if (r && r->code == 200 && r->body.is_object())
          for (const auto& t : r->body.value("teams", nlohmann::json::array()))
            if (auto name = text_of(t, "name"); !name.empty()) req.teams.push_back(name);
        list_hosts(id, who, std::move(req));
      });
  return *jobs_.get(id, common::now_ms());
}

void job_runner::list_hosts(const std::string& job_id, const principal& who, pull_request req) {
  gateway_.control(
      "hosts", nlohmann::json::object(),
      [this, job_id, who, req = std::move(req)](common::result<common::envelope> r) mutable {
        begin_pulls(job_id, who, std::move(req), std::move(r));
      });
}

void job_runner::begin_pulls(const std::string& job_id, const principal& who, pull_request req,
                             common::result<common::envelope> hosts_reply) {
  if (!hosts_reply || hosts_reply->code != 200) {
    auto e = hosts_reply ? make_error(errc::unavailable, "the directory did not answer")
                         : hosts_reply.err();
    changed(jobs_.update(job_id, common::now_ms(), [&](job& j) {
      j.state = job_state::failed;
      j.status = 503;
      j.err = e;
    }));
    return;
  }
  std::map<std::string, std::string> status;  // fqdn -> up/down/...
  const auto& reply_body = hosts_reply->body;
  auto hosts = reply_body.is_object() && reply_body.contains("hosts") ? reply_body["hosts"]
                                                                      : nlohmann::json::array();
  for (const auto& h : hosts) status[text_of(h, "fqdn")] = text_of(h, "status");
  if (req.pools) {
    req.hosts = pool_hosts(who, req.teams, hosts);
    changed(jobs_.update(job_id, common::now_ms(), [&](job& j) {
      for (auto& h : req.hosts) j.progress["hosts"][h] = {{"state", "waiting"}};
      if (req.hosts.empty()) {
        j.state = job_state::failed;
        j.status = 503;
        j.err = make_error(errc::unavailable, "no up host in your pools or the shared pool");
      }
    }));
  }
  {
    std::lock_guard lock(mutex_);
    pulls_by_image_[normalize_image(req.image)].insert(job_id);
  }
  for (const auto& host : req.hosts) {
    auto it = status.find(host);
    if (it == status.end() || it->second != "up") {
      auto e = it == status.end()
                   ? make_error(errc::not_found, "host " + host + " is not in the directory")
                   : make_error(errc::unavailable, "host " + host + " is " + it->second);
      host_pulled(job_id, host, e);
      continue;
    }
    changed(jobs_.update(job_id, common::now_ms(),
                         [&](job& j) { j.progress["hosts"][host]["state"] = "pulling"; }));
    message_plan plan;
    plan.action = names::pull_image;
    plan.host = host;
    plan.body = {{"image", req.image}};
    if (!req.auth.is_null()) plan.body["auth"] = req.auth;
    plan.rule = *find_action_rule(names::pull_image);
    gateway_.send_plan(who, std::move(plan),
                       [this, job_id, host](common::result<common::envelope> r) {
                         host_pulled(job_id, host, std::move(r));
                       });
  }
}

void job_runner::host_pulled(const std::string& job_id, const std::string& host,
                             common::result<common::envelope> r) {
  auto j = jobs_.update(job_id, common::now_ms(), [&](job& x) {
    auto& p = x.progress["hosts"][host];
    bool ok = r && r->code < 300;
    p["state"] = ok ? "done" : "failed";
    p["code"] = r ? r->code : common::to_status(r.err().code);
    if (!ok) p["message"] = r ? (r->err ? r->err->message : "pull failed") : r.err().message;
    if (ok && r->body.is_object()) p["result"] = r->body;
    settle(x);
  });
  changed(j);
  if (j && j->state != job_state::running) {
    std::lock_guard lock(mutex_);
    for (auto it = pulls_by_image_.begin(); it != pulls_by_image_.end();) {
      it->second.erase(job_id);
      it = it->second.empty() ? pulls_by_image_.erase(it) : std::next(it);
    }
    for (auto it = last_progress_.lower_bound(job_id + "/");
         it != last_progress_.end() && it->first.rfind(job_id + "/", 0) == 0;)
      it = last_progress_.erase(it);
  }
}

void job_runner::on_event(const common::bus_message& m) {
  auto topic = common::parse_topic(m.topic);
  // Only brokers publish on dir/: an agent's event that calls itself a reconcile step is not one.
  if (topic && topic->kind == common::topic_kind::dir && m.env.action == names::service_reconcile)
    return on_reconcile(m);
  if (!topic || topic->kind != common::topic_kind::evt_host) return;
  const auto& body = m.env.body;
  if (!body.is_object() || m.env.action.find("pull") == std::string::npos) return;
  std::string image = text_of(body, "image");
  std::vector<std::string> job_ids;
  {
    std::lock_guard lock(mutex_);
    auto it = pulls_by_image_.find(normalize_image(image));
    if (it == pulls_by_image_.end()) return;
    auto now = std::chrono::steady_clock::now();
    for (const auto& id : it->second) {
      auto& last = last_progress_[id + "/" + topic->name];
      if (now - last < std::chrono::milliseconds(200)) continue;  // at most 5 updates/s per host
      last = now;
      job_ids.push_back(id);
    }
  }
  for (const auto& id : job_ids)
    changed(jobs_.update(id, common::now_ms(), [&](job& j) {
      auto& p = j.progress["hosts"][topic->name];
      if (text_of(p, "state") == "pulling") apply_pull_progress(p, body);
    }));
}

}  // namespace dockmesh::bridge
