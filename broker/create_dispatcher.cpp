#include "broker/create_dispatcher.hpp"

#include "common/log.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::envelope;
using common::errc;
using nlohmann::json;

bool success(int code) { return code >= 200 && code < 300; }

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

publication create_dispatcher::reply(const envelope& req, int code, json body, std::string message) {
  envelope r = common::make_reply(req, client_id_, code, std::move(body));
  if (code >= 400) r.err = common::error{common::from_status(code), std::move(message)};
  return {req.reply_to, std::move(r)};
}

publications create_dispatcher::on_request(const envelope& req, const fleet_fn& fleet,
                                           std::int64_t now_ms) {
  if (auto t = common::parse_topic(req.reply_to); !t || t->kind != common::topic_kind::rep)
    return {};  // nowhere to answer: dropped (the hub counts it)
  if (req.action != "create-container") {
    ++counters_.invalid;
    return {reply(req, 400, nullptr,
                  "only create-container can be sent without a host; '" + req.action +
                      "' needs req/host/<fqdn>/")};
  }
  if (auto it = jobs_.find(req.id); it != jobs_.end()) {
    ++counters_.retries;
    return retry(it->second, req);
  }
  auto preq = parse_placement_request(req.body);
  if (!preq) {
    ++counters_.invalid;
    return {reply(req, 400, nullptr, preq.err().message)};
  }
  auto placed = place(fleet(), *preq, rng_);
  if (!placed.ok) {
    ++counters_.unplaceable;
    DM_LOG(info) << "request " << req.id << " not placed: " << placed.message;
    return {reply(req, 503, {{"excluded", placed.excluded}}, placed.message)};
  }
  ++counters_.scheduled;
  return start(req, placed.hosts, now_ms);
}

publications create_dispatcher::start(const envelope& req, const std::vector<assignment>& hosts,
                                      std::int64_t now_ms) {
  job j;
  j.request = req;
  j.created = now_ms;
  j.fanout = hosts.size() > 1;
  j.deadline = req.deadline > now_ms ? req.deadline : now_ms + default_fanout_ms;
  json body = strip_scheduling_fields(req.body);
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    envelope sub = req;
    sub.body = body;
    if (j.fanout) {
      sub.id = req.id + "-" + std::to_string(i + 1);
      sub.reply_to = reply_topic_;
      sub.body["instances"] = hosts[i].instances;
      sub_to_job_[sub.id] = req.id;
    }
    j.subs.push_back({hosts[i].fqdn, std::move(sub), std::nullopt});
  }
  publications out;
  for (const auto& s : j.subs) out.push_back({common::topic_req_host(s.host).value(), s.env});
  DM_LOG(debug) << "request " << req.id << " placed on " << hosts.size() << " host(s), first "
                << hosts.front().fqdn;
  remember(req.id, std::move(j));
  return out;
}

publications create_dispatcher::retry(job& j, const envelope& req) {
  if (j.combined) {
    publication p{req.reply_to, *j.combined};
    return {std::move(p)};
  }
  publications out;
  for (auto& s : j.subs) {
    if (s.reply) continue;
    s.env.attempt = req.attempt;
    out.push_back({common::topic_req_host(s.host).value(), s.env});
  }
  return out;
}

publications create_dispatcher::on_reply(const envelope& rep, std::int64_t) {
  auto owner = sub_to_job_.find(rep.re);
  if (owner == sub_to_job_.end()) return {};
  auto it = jobs_.find(owner->second);
  if (it == jobs_.end() || it->second.combined) return {};
  job& j = it->second;
  bool all = true;
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
  std::string message = failed ? std::to_string(failed) + " of " + std::to_string(j.subs.size()) +
                                     " hosts failed"
                               : std::string();
  auto p = reply(j.request, failed ? first_failure : 201, std::move(body), message);
  j.combined = p.env;
  for (const auto& s : j.subs) sub_to_job_.erase(s.env.id);
  return p;
}

publications create_dispatcher::tick(std::int64_t now_ms) {
  publications out;
  for (auto& [id, j] : jobs_)
    if (j.fanout && !j.combined && now_ms >= j.deadline) out.push_back(finish(j));
  while (!order_.empty()) {
    auto it = jobs_.find(order_.front());
    bool expired = it == jobs_.end() ||
                   ((!it->second.fanout || it->second.combined) && now_ms - it->second.created > cache_ms);
    if (!expired) break;
    if (it != jobs_.end()) jobs_.erase(it);
    order_.pop_front();
  }
  return out;
}

void create_dispatcher::remember(std::string id, job j) {
  // The cache is bounded: the oldest entry goes first, even an unfinished fan-out (its late
  // replies are then ignored).
  while (jobs_.size() >= cache_entries && !order_.empty()) {
    auto it = jobs_.find(order_.front());
    if (it != jobs_.end()) {
      for (const auto& s : it->second.subs) sub_to_job_.erase(s.env.id);
      jobs_.erase(it);
    }
    order_.pop_front();
  }
  order_.push_back(id);
  jobs_.emplace(std::move(id), std::move(j));
}

std::size_t create_dispatcher::pending_fanouts() const {
  std::size_t n = 0;
  for (const auto& [id, j] : jobs_) n += j.fanout && !j.combined;
  return n;
}

}  // namespace dockmesh::broker
