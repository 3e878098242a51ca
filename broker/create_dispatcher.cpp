#include "broker/create_dispatcher.hpp"

#include "common/ownership.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::envelope;
using common::errc;
using nlohmann::json;

bool success(int code) {
  return code >= 200 && code < 300;
}

void collect_containers(const envelope& rep, json& out) {
  if (!rep.body.is_object()) return;
  auto list = rep.body.find("containers");
  if (list != rep.body.end() && list->is_array()) {
    for (const auto& c : *list) out.push_back(c);
  } else if (rep.body.contains("id")) {
    out.push_back(rep.body);
  }
}

}  // namespace

create_dispatcher::create_dispatcher(std::string broker_client_id, std::uint64_t seed)
    : client_id_(std::move(broker_client_id)),
      reply_topic_(common::topic_rep(client_id_).value()),
      rng_(seed) {}

publication create_dispatcher::reply(const envelope& req, int code, json body,
                                     std::string message) {
  envelope r = common::make_reply(req, client_id_, code, std::move(body));
  if (code >= 400) r.err = common::error{common::from_status(code), std::move(message)};
  return {req.reply_to, std::move(r)};
}

publications create_dispatcher::on_request(const envelope& req, const fleet_fn& fleet,
                                           std::int64_t now_ms) {
  if (auto t = common::parse_topic(req.reply_to); !t || t->kind != common::topic_kind::rep)
    return {};  // nowhere to answer: dropped (the hub counts it)
  if (req.action != common::protocol::names::create_container) {
    ++counters_.invalid;
    return {reply(req, 400, nullptr,
                  "only create-container can be sent without a host; '" + req.action +
                      "' needs req/host/<fqdn>/")};
  }
  if (auto it = jobs_.find(req.id); it != jobs_.end()) {
    ++counters_.retries;
    return retry(it->second, req, now_ms);
  }
  if (awaiting_.count(req.id)) return {};  // etcd has not answered yet; it will
  auto preq = parse_placement_request(req.body);
  if (!preq) {
    ++counters_.invalid;
    return {reply(req, 400, nullptr, preq.err().message)};
  }
  preq->user = req.user;
  if (teams_of_) preq->teams = teams_of_(req.user);
  preq->any_pool = common::role_of_envelope(req.role) == common::role::admin;
  ledger_.expire(now_ms);
  auto placed = place(fleet(), *preq, rng_, &ledger_.by_host());
  if (commit_) return commit(req, placed, now_ms);
  if (!placed.ok) {
    ++counters_.unplaceable;
    DM_LOG(info) << "request " << req.id << " not placed: " << placed.message;
    return {reply(req, 503, {{"excluded", placed.excluded}}, placed.message)};
  }
  ++counters_.scheduled;
  return start(req, placed.hosts, now_ms);
}

void create_dispatcher::build_subs(job& j, const envelope& req, std::int64_t now_ms) {
  j.request = req;
  j.fanout = j.hosts.size() > 1;
  j.deadline = req.deadline > now_ms ? req.deadline : now_ms + default_fanout_ms;
  j.subs.clear();
  json body = strip_scheduling_fields(req.body);
  int first = 1;
  for (std::size_t i = 0; i < j.hosts.size(); ++i) {
    envelope sub = req;
    sub.body = body;
    if (j.fanout) {
      sub.id = req.id + "-" + std::to_string(i + 1);
      sub.reply_to = reply_topic_;
      sub.body["instances"] = j.hosts[i].instances;
      sub.body["first_instance"] = first;
      sub_to_job_[sub.id] = req.id;
    }
    first += j.hosts[i].instances;
    j.subs.push_back({j.hosts[i].fqdn, std::move(sub), std::nullopt});
  }
}

publications create_dispatcher::start(const envelope& req, const std::vector<assignment>& hosts,
                                      std::int64_t now_ms) {
  job j;
  j.created = now_ms;
  j.hosts = hosts;
  build_subs(j, req, now_ms);
  if (db_) {
    // Written before the request goes out: a retry after a crash must find the same hosts.
    json placed = json::array();
    for (const auto& a : hosts) placed.push_back({a.fqdn, a.instances});
    auto saved = db_->put("p/" + req.id, {{"created", now_ms}, {"hosts", placed}}, false);
    if (!saved) {
      DM_LOG(warn) << "placement of " << req.id << " not saved: " << saved.err().message;
    }
  }
  DM_LOG(debug) << "request " << req.id << " placed on " << hosts.size() << " host(s), first "
                << hosts.front().fqdn;
  auto out = send_unanswered(j, req.attempt);
  for (const auto& s : j.subs)
    ledger_.add(s.host, s.env.id, s.env.body.value("instances", 1),
                std::min(j.deadline, now_ms + placement_ledger::max_wait_ms));
  remember(req.id, std::move(j));
  return out;
}

publications create_dispatcher::send_unanswered(job& j, int attempt) {
  publications out;
  for (auto& s : j.subs) {
    if (s.reply) continue;
    s.env.attempt = attempt;
    s.env.epoch = epoch_;
    out.push_back({common::topic_req_host(s.host).value(), s.env});
  }
  return out;
}

bool create_dispatcher::reopen(job& j, const envelope& req, std::int64_t now_ms) {
  // Hosts that answered 503 (down, busy) or 504 (deadline), or not at all, did nothing that a
  // retry would repeat (agents do not cache those answers): a retry asks them again rather than
  // repeating a failure that may be over.
  if (!j.combined || success(j.combined->code)) return false;
  bool any = false;
  for (auto& s : j.subs) {
    if (s.reply && s.reply->code != 503 && s.reply->code != 504) continue;
    s.reply.reset();
    sub_to_job_[s.env.id] = req.id;
    any = true;
  }
  if (!any) return false;
  j.combined.reset();
  j.deadline = req.deadline > now_ms ? req.deadline : now_ms + default_fanout_ms;
  return true;
}

publications create_dispatcher::retry(job& j, const envelope& req, std::int64_t now_ms) {
  if (j.combined && !reopen(j, req, now_ms)) {
    publication p{req.reply_to, *j.combined};
    return {std::move(p)};
  }
  // Restored after a restart: rebuild the requests from the retry, to the same hosts.
  if (j.subs.empty()) build_subs(j, req, common::now_ms());
  // The retry may come from another requester process (an idempotency key repeated by a new
  // dockmeshctl): answers go to whoever asked last.
  j.request.reply_to = req.reply_to;
  j.request.from = req.from;
  if (!j.fanout)
    for (auto& s : j.subs) {
      s.env.reply_to = req.reply_to;
      s.env.from = req.from;
    }
  return send_unanswered(j, req.attempt);
}

std::vector<std::string> create_dispatcher::placed_hosts(const std::string& id) const {
  std::vector<std::string> out;
  if (auto it = jobs_.find(id); it != jobs_.end())
    for (const auto& a : it->second.hosts) out.push_back(a.fqdn);
  return out;
}

void create_dispatcher::attach(state_db& db, std::int64_t now_ms) {
  db_ = &db;
  std::vector<std::pair<std::int64_t, std::string>> restored;
  std::vector<std::string> stale;
  db.for_each("p/", [&](std::string_view key, const json& v) {
    std::string id(key.substr(2));
    std::int64_t created = v.is_object() ? v.value("created", std::int64_t{0}) : 0;
    const json hosts = v.is_object() ? v.value("hosts", json::array()) : json::array();
    if (now_ms - created > cache_ms || !hosts.is_array() || hosts.empty()) {
      stale.push_back(id);
      return;
    }
    job j;
    j.created = created;
    for (const auto& h : hosts)
      if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_number_integer())
        j.hosts.push_back({h[0].get<std::string>(), h[1].get<int>()});
    j.fanout = j.hosts.size() > 1;
    jobs_.emplace(id, std::move(j));
    restored.emplace_back(created, id);
  });
  for (const auto& id : stale) (void)db.erase("p/" + id, false);
  std::sort(restored.begin(), restored.end());
  for (auto& [created, id] : restored) order_.push_back(std::move(id));
  if (!restored.empty()) {
    DM_LOG(info) << "restored " << restored.size() << " recent placement(s)";
  }
}

void create_dispatcher::forget(const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  for (const auto& s : it->second.subs) sub_to_job_.erase(s.env.id);
  jobs_.erase(it);
  if (db_) (void)db_->erase("p/" + id, false);
}

bool create_dispatcher::reply_from_placed_host(const std::string& re, std::string_view fqdn) const {
  if (auto sub = sub_to_job_.find(re); sub != sub_to_job_.end()) {
    auto it = jobs_.find(sub->second);
    if (it == jobs_.end()) return true;
    for (const auto& s : it->second.subs)
      if (s.env.id == re) return s.host == fqdn;
    return true;
  }
  auto it = jobs_.find(re);
  if (it == jobs_.end() || it->second.hosts.empty()) return true;  // not ours, or not known
  for (const auto& a : it->second.hosts)
    if (a.fqdn == fqdn) return true;
  return false;
}

publications create_dispatcher::on_reply(const envelope& rep, std::int64_t) {
  auto owner = sub_to_job_.find(rep.re);
  if (owner == sub_to_job_.end()) return {};
  auto it = jobs_.find(owner->second);
  if (it == jobs_.end() || it->second.combined) return {};
  job& j = it->second;
  bool all = true;
  ledger_.settle(rep.re);
  for (auto& s : j.subs) {
    if (s.env.id == rep.re && !s.reply) s.reply = rep;
    all = all && s.reply.has_value();
  }
  if (!all) return {};
  return {finish(j)};
}

publication create_dispatcher::finish(job& j) {
  json hosts = json::array(), containers = json::array();
  int failed = 0, first_failure = 0;
  for (const auto& s : j.subs) {
    json h = {{"host", s.host}, {"instances", s.env.body.value("instances", 1)}};
    int code = s.reply ? s.reply->code : 504;
    h["code"] = code;
    if (s.reply && !s.reply->body.is_null()) h["body"] = s.reply->body;
    if (s.reply && s.reply->err) h["error"] = s.reply->err->message;
    if (!s.reply) h["error"] = "no answer before the deadline";
    if (s.reply) collect_containers(*s.reply, containers);
    if (!success(code) && failed++ == 0) first_failure = code;
    hosts.push_back(std::move(h));
  }
  json body = {{"hosts", hosts}, {"containers", containers}};
  std::string message =
      failed ? std::to_string(failed) + " of " + std::to_string(j.subs.size()) + " hosts failed"
             : std::string();
  auto p = reply(j.request, failed ? first_failure : 201, std::move(body), message);
  j.combined = p.env;
  for (const auto& s : j.subs) sub_to_job_.erase(s.env.id);
  return p;
}

publications create_dispatcher::tick(std::int64_t now_ms) {
  publications out;
  for (auto& [id, j] : jobs_)
    if (j.fanout && !j.combined && !j.subs.empty() && now_ms >= j.deadline)
      out.push_back(finish(j));
  while (!order_.empty()) {
    auto it = jobs_.find(order_.front());
    bool waiting =
        it != jobs_.end() && it->second.fanout && !it->second.combined && !it->second.subs.empty();
    bool expired = it == jobs_.end() || (!waiting && now_ms - it->second.created > cache_ms);
    if (!expired) break;
    forget(order_.front());
    order_.pop_front();
  }
  return out;
}

void create_dispatcher::remember(std::string id, job j) {
  // The cache is bounded: the oldest entry goes first, even an unfinished fan-out (its late
  // replies are then ignored).
  while (jobs_.size() >= cache_entries && !order_.empty()) {
    forget(order_.front());
    order_.pop_front();
  }
  order_.push_back(id);
  jobs_.emplace(std::move(id), std::move(j));
}

std::size_t create_dispatcher::pending_fanouts() const {
  std::size_t n = 0;
  for (const auto& [id, j] : jobs_) n += j.fanout && !j.combined && !j.subs.empty();
  return n;
}

}  // namespace dockmesh::broker

namespace dockmesh::broker {

publications create_dispatcher::commit(const envelope& req, const placement_result& placed,
                                       std::int64_t now_ms) {
  awaiting a{req, placed.ok ? std::string() : placed.message, placed.excluded};
  json hosts = json::array();
  for (const auto& h : placed.hosts) hosts.push_back({h.fqdn, h.instances});
  awaiting_.emplace(req.id, std::move(a));
  commit_(req.id, {{"hosts", hosts}, {"created", now_ms}, {"epoch", epoch_}}, !placed.ok);
  return {};
}

publications create_dispatcher::on_placed(const std::string& id, bool ok, const json& record,
                                          const std::string& error, std::int64_t now_ms) {
  auto it = awaiting_.find(id);
  if (it == awaiting_.end()) return {};
  awaiting a = std::move(it->second);
  awaiting_.erase(it);
  std::vector<assignment> hosts;
  if (ok && record.is_object())
    for (const auto& h : record.value("hosts", json::array()))
      if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_number_integer())
        hosts.push_back({h[0].get<std::string>(), h[1].get<int>()});
  if (hosts.empty()) {
    if (!a.unplaced.empty()) {
      ++counters_.unplaceable;
      return {reply(a.request, 503, {{"excluded", a.excluded}}, a.unplaced)};
    }
    DM_LOG(warn) << "placement of " << id << " not committed: " << error;
    return {reply(a.request, 503, nullptr, "placement not committed (etcd: " + error + "); retry")};
  }
  if (record.value("epoch", std::int64_t{0}) != epoch_ || !a.unplaced.empty()) {
    DM_LOG(info) << "request " << id << ": reusing the placement committed in etcd at epoch "
                 << record.value("epoch", std::int64_t{0});
  }
  ++counters_.scheduled;
  return start(a.request, hosts, now_ms);
}

}  // namespace dockmesh::broker
