#include "broker/reconciler.hpp"

#include <algorithm>

#include "broker/host_policy.hpp"
#include "broker/team_book.hpp"

#include "common/log.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::envelope;
using nlohmann::json;

update_policy update_of(const json& record, std::int64_t generation) {
  const json u = record.value("spec", json::object()).value("update", json::object());
  update_policy p;
  p.batch_size = u.value("batch_size", 1);
  p.delay_ms = u.value("delay_s", std::int64_t{0}) * 1000;
  p.gate_ms = u.value("running_s", std::int64_t{5}) * 1000;
  // Room for a slow start on a loaded host; a replica that exits fails the update at once.
  p.deadline_ms = p.gate_ms + 30000;
  p.health_gate = u.value("health_gate", "running") == "health";
  const json hc = record.value("spec", json::object()).value("healthcheck", json::object());
  if (p.health_gate && hc.is_object() && !hc.empty()) {
    // The check's own budget: its start period, then retries+1 probes (Docker's defaults 30 s,
    // 30 s, 3 for zeros), before Docker would call it unhealthy.
    auto val = [&hc](const char* k, std::int64_t dflt) {
      std::int64_t v = hc.value(k, std::int64_t{0});
      return v > 0 ? v : dflt;
    };
    std::int64_t budget_s =
        hc.value("start_period_s", std::int64_t{0}) +
        (val("interval_s", 30) + val("timeout_s", 30)) * (val("retries", 3) + 1);
    p.deadline_ms = std::max(p.deadline_ms, budget_s * 1000 + 30000);
  }
  p.on_failure = u.value("rollback", true) ? update_failure::rollback : update_failure::pause;
  const json st = record.value("update_status", json::object());
  if (st.value("generation", std::int64_t{0}) == generation) {
    // A rollback's own generation is not rolled back again; a paused one moves no further.
    if (st.value("state", "") == "rolled-back") p.on_failure = update_failure::ignore;
    if (st.value("state", "") == "paused") p.halted = true;
  }
  return p;
}

desired_service desired_of(const json& record) {
  const json spec = record.value("spec", json::object());
  const json resched = spec.value("reschedule", json::object());
  desired_service s;
  s.id = record.value("id", "");
  s.replicas = spec.value("replicas", 1);
  s.generation = record.value("generation", std::int64_t{1});
  s.version = record.value("version", std::int64_t{1});
  s.grace_ms = resched.value("grace_s", std::int64_t{30}) * 1000;
  s.remove_returned = resched.value("on_return", "remove-returned") == "remove-returned";
  s.update = update_of(record, s.generation);
  for (const auto& g : record.value("same_generations", json::array()))
    if (g.is_number_integer()) s.same_generations.insert(g.get<std::int64_t>());
  s.owner = record.value("owner", "");
  const json placement = spec.value("placement", json::object());
  s.pool = placement.value("pool", "");
  s.pack = placement.value("strategy", "spread") == "pack";
  for (const auto& c : placement.value("constraints", json::array()))
    if (c.is_string()) {
      auto text = c.get<std::string>();
      auto eq = text.find('=');
      if (eq != std::string::npos) s.constraints[text.substr(0, eq)] = text.substr(eq + 1);
    }
  return s;
}

host_view view_of(const host_entry& h, const container_index& containers) {
  host_view v;
  v.state = h.status == host_status::up     ? host_state::up
            : h.status == host_status::down ? host_state::down
                                            : host_state::gone;
  v.placeable = h.status == host_status::up && h.docker_up();
  v.down_since = h.status_since;
  v.containers = static_cast<int>(containers.on_host(h.fqdn).size());
  auto labels = h.record.find("labels");
  if (labels != h.record.end() && labels->is_object())
    for (auto it = labels->begin(); it != labels->end(); ++it)
      if (it->is_string()) v.labels[it.key()] = it->get<std::string>();
  return v;
}

// The host's policy (kept in the registry beside the services, host_policy.hpp).
void with_policy(host_view& v, const service_registry& registry, const std::string& fqdn,
                 std::int64_t now_ms) {
  const auto& all = registry.records_of(record_kind::host_policy);
  auto it = all.find(fqdn);
  if (it == all.end()) return;
  auto p = host_policy::from_json(it->second);
  v.pool = p.pool;
  v.cordoned = p.cordoned;
  v.draining = p.draining;
  v.drain_batch = p.drain_batch;
  v.drain_overdue = p.draining && p.drain_deadline > 0 && now_ms >= p.drain_deadline;
}

// `<project>-<service>-<n>-<last 4 of the project id>`: project names are unique per user only,
// so the suffix keeps two users' "shop-web-1" apart; the index keeps a service's replicas apart.
std::string replica_name(const json& project, const json& service, int replica) {
  std::string pid = project.value("id", "");
  return project.value("name", "p") + "-" + service.value("name", "s") + "-" +
         std::to_string(replica) + "-" + pid.substr(pid.size() > 4 ? pid.size() - 4 : 0);
}

json create_body(const json& project, const json& service, const planned_create& c) {
  const json spec = service.value("spec", json::object());
  json body = {{"image", spec.value("image", "")},
               {"name", replica_name(project, service, c.key.replica)},
               {"candidates", {c.host}},
               {"labels",
                {{"mesh.project", project.value("id", "")},
                 {"mesh.service", c.key.service},
                 {"mesh.replica", std::to_string(c.key.replica)},
                 {"mesh.generation", std::to_string(c.key.generation)}}}};
  for (const char* k : {"cmd", "env", "ports", "volumes"})
    if (spec.contains(k) && spec[k].is_array() && !spec[k].empty()) body[k] = spec[k];
  for (const char* k : {"memory", "cpus"})
    if (spec.contains(k) && spec[k].is_number() && spec[k].get<double>() > 0) body[k] = spec[k];
  if (spec.contains("healthcheck") && spec["healthcheck"].is_object())
    body["healthcheck"] = spec["healthcheck"];
  for (const char* k : {"restart_policy", "network_mode"})
    if (spec.contains(k) && spec[k].is_string() && !spec[k].get<std::string>().empty())
      body[k] = spec[k];
  return body;
}

envelope request(std::string id, std::string_view action, const std::string& owner,
                 const reconcile_sender& who, std::int64_t now_ms, json body) {
  envelope e;
  e.id = std::move(id);
  // A re-driven create (this broker's retry, or a new leader's) makes the agent look for the
  // containers of the request id before creating: the same replica is never made twice.
  e.attempt = 1;
  e.action = std::string(action);
  e.from = who.from;
  e.reply_to = who.reply_topic;
  e.user = owner.empty() ? who.from : owner;  // the replicas belong to the service's owner
  e.role = "admin";
  e.deadline = now_ms + reconciler::wait_ms;
  e.epoch = who.epoch;
  e.body = std::move(body);
  return e;
}

}  // namespace

bool reconciler::due(std::uint64_t revision, std::int64_t now_ms) const {
  if (now_ms - last_pass_ < min_gap_ms) return false;
  return revision != revision_seen_ || directory_changed_ || now_ms - last_pass_ >= period_ms;
}

void reconciler::reset() {
  creates_.clear();
  removes_.clear();
  remove_requests_.clear();
  stops_.clear();
  blocked_.clear();
  updating_.clear();
  directory_changed_ = true;
}

plan_input reconciler::gather(const reconcile_sources& src, std::int64_t now_ms) {
  plan_input in;
  in.now_ms = now_ms;
  std::map<std::string, std::vector<std::string>> teams;  // by owner: read once per pass
  for (const auto& [id, record] : src.services.services()) {
    auto& s = in.services[id] = desired_of(record);
    auto t = teams.find(s.owner);
    if (t == teams.end()) t = teams.emplace(s.owner, teams_of_user(src.services, s.owner)).first;
    s.owner_teams = t->second;  // a team change bumps the registry's revision: a new pass
  }
  for (const auto& [fqdn, h] : src.hosts.hosts()) {
    in.hosts[fqdn] = view_of(h, src.containers);
    with_policy(in.hosts[fqdn], src.services, fqdn, now_ms);
    for (const auto& c : src.containers.on_host(fqdn))
      if (auto key = parse_replica_request(c.request))
        in.observed.push_back({c.id, fqdn, c.state, *key, c.health, 0, 0});
  }
  track_gates(in, src, now_ms);
  settle(in, now_ms);
  for (const auto& [id, f] : creates_) in.pending_creates[f.service][f.replica] = f.host;
  for (const auto& [id, f] : removes_) in.pending_removes.insert(id);
  in.replaced = replaced_;
  note_update_creates(in);
  return in;
}

void reconciler::settle(const plan_input& in, std::int64_t now_ms) {
  std::set<std::string> seen_requests, seen_containers;
  for (const auto& r : in.observed) {
    seen_requests.insert(replica_request_id(r.key));
    seen_containers.insert(r.container_id);
  }
  for (const auto& r : in.observed) {
    replica_key first = r.key;
    first.attempt = 0;
    attempts_.erase(replica_request_id(first));
  }
  std::erase_if(creates_, [&](const auto& e) {
    if (seen_requests.count(e.first)) return true;
    if (e.second.until > now_ms) return false;
    // Not seen in time (a failed one already moved on): its id is spent.
    if (!e.second.failed)
      if (auto key = parse_replica_request(e.first)) {
        key->attempt = 0;
        ++attempts_[replica_request_id(*key)];
      }
    return true;
  });
  std::erase_if(removes_, [&](const auto& e) {
    return !seen_containers.count(e.first) || e.second.until <= now_ms;
  });
  std::erase_if(remove_requests_, [&](const auto& e) { return !removes_.count(e.second); });
  std::erase_if(replaced_, [&](const std::string& id) { return !seen_containers.count(id); });
}

std::size_t reconciler::creates_in_flight() const {
  std::size_t n = 0;
  for (const auto& [id, f] : creates_) n += f.failed ? 0 : 1;
  return n;
}

reconcile_work reconciler::pass(const reconcile_sources& src, const reconcile_sender& who,
                                std::int64_t now_ms) {
  last_pass_ = now_ms;
  revision_seen_ = src.services.revision();
  directory_changed_ = false;
  auto in = gather(src, now_ms);
  auto plan = plan_reconcile(in);
  for (const auto& id : plan.lost) replaced_.insert(id);
  blocked_ = plan.blocked;
  reconcile_work out;
  out.events = std::move(events_);  // failures heard since the last pass come first
  events_.clear();
  note_updates(plan, src, out);
  send_creates(plan, src, who, now_ms, out);
  send_removes(plan, src, who, now_ms, out);
  send_drain_stops(src, who, now_ms, out);
  return out;
}

void reconciler::send_creates(const reconcile_plan& plan, const reconcile_sources& src,
                              const reconcile_sender& who, std::int64_t now_ms,
                              reconcile_work& out) {
  std::size_t room = max_creates_in_flight - std::min(max_creates_in_flight, creates_in_flight());
  for (const auto& c : plan.creates) {
    if (room == 0) break;
    const auto& services = src.services.services();
    auto s = services.find(c.key.service);
    if (s == services.end()) continue;
    const json* project = src.services.project(s->second.value("project", ""));
    if (!project) continue;
    std::string id = next_id(c.key, who);
    std::int64_t backoff_ms = s->second.value("spec", json::object())
                                  .value("reschedule", json::object())
                                  .value("backoff_s", std::int64_t{5}) *
                              1000;
    std::string owner = s->second.value("owner", "");
    creates_[id] = {c.key.service,    owner, c.key.replica, c.host,
                    now_ms + wait_ms, false, backoff_ms};
    out.creates.push_back(request(id, common::protocol::names::create_container, owner, who, now_ms,
                                  create_body(*project, s->second, c)));
    out.events.push_back({{"service", c.key.service},
                          {"owner", owner},
                          {"step", c.replacement ? "replace" : "create"},
                          {"replica", c.key.replica},
                          {"host", c.host},
                          {"request", id}});
    --room;
  }
}

std::string reconciler::next_id(replica_key key, const reconcile_sender& who) {
  key.attempt = 0;
  int& attempt = attempts_[replica_request_id(key)];
  key.attempt = attempt;
  std::string id = replica_request_id(key);
  // Bounded: each spent id was a real request; a handful in a row means hosts come and go.
  for (int i = 0; i < 8 && who.placed_on_down_host && who.placed_on_down_host(id); ++i) {
    key.attempt = ++attempt;
    id = replica_request_id(key);
  }
  return id;
}

void reconciler::send_removes(const reconcile_plan& plan, const reconcile_sources& src,
                              const reconcile_sender& who, std::int64_t now_ms,
                              reconcile_work& out) {
  for (const auto& r : plan.removes) {
    // A deleted service's replicas: the owner is on the container.
    std::string owner;
    if (auto s = src.services.services().find(r.service); s != src.services.services().end())
      owner = s->second.value("owner", "");
    else if (auto c = src.containers.lookup(r.container_id, ""); c)
      owner = c->owner;
    if (removes_.size() >= max_removes_in_flight) break;
    auto topic = common::topic_req_host(r.host);
    if (!topic) continue;
    auto env = request(common::new_message_id(), common::protocol::names::remove_container, "", who,
                       now_ms, {{"id", r.container_id}, {"force", true}});
    removes_[r.container_id] = {r.service, owner, r.replica, r.host, now_ms + wait_ms, false, 0};
    remove_requests_[env.id] = r.container_id;
    out.events.push_back({{"service", r.service},
                          {"owner", owner},
                          {"step", "remove"},
                          {"reason", std::string(to_string(r.why))},
                          {"replica", r.replica},
                          {"host", r.host},
                          {"container", r.container_id}});
    out.removes.push_back({*topic, std::move(env)});
  }
}

void reconciler::send_drain_stops(const reconcile_sources& src, const reconcile_sender& who,
                                  std::int64_t now_ms, reconcile_work& out) {
  std::erase_if(stops_, [&](const auto& e) { return e.second <= now_ms; });
  for (const auto& [fqdn, record] : src.services.records_of(record_kind::host_policy)) {
    auto p = host_policy::from_json(record);
    const host_entry* h = src.hosts.find(fqdn);
    auto topic = common::topic_req_host(fqdn);
    if (!p.draining || !p.drain_all || !h || h->status != host_status::up || !topic) continue;
    for (const auto& c : src.containers.on_host(fqdn)) {
      if (c.state != "running" || parse_replica_request(c.request) || stops_.count(c.id)) continue;
      stops_[c.id] = now_ms + wait_ms;
      DM_LOG(info) << "drain --all of " << fqdn << ": stopping " << c.id.substr(0, 12);
      out.removes.push_back(
          {*topic, request(common::new_message_id(), common::protocol::names::stop_container, "",
                           who, now_ms, {{"id", c.id}})});
    }
  }
}

bool reconciler::on_reply(const envelope& rep, std::int64_t now_ms) {
  std::string message = rep.err ? rep.err->message : "code " + std::to_string(rep.code);
  if (auto c = creates_.find(rep.re); c != creates_.end()) {
    if (rep.code >= 400) {
      if (auto key = parse_replica_request(rep.re)) {
        key->attempt = 0;
        ++attempts_[replica_request_id(*key)];
      }
      c->second.failed = true;
      c->second.until = now_ms + c->second.backoff_ms;
      last_error_[c->second.service] =
          "replica " + std::to_string(c->second.replica) + " on " + c->second.host + ": " + message;
      events_.push_back({{"service", c->second.service},
                         {"owner", c->second.owner},
                         {"step", "failed"},
                         {"replica", c->second.replica},
                         {"host", c->second.host},
                         {"request", rep.re},
                         {"error", message}});
      DM_LOG(info) << "replica " << rep.re << " not created: " << message;
    }
    return true;
  }
  auto r = remove_requests_.find(rep.re);
  if (r == remove_requests_.end()) return false;
  if (rep.code >= 400 && rep.code != 404) {
    auto f = removes_.find(r->second);
    if (f != removes_.end()) {
      last_error_[f->second.service] =
          "removing " + r->second + " on " + f->second.host + ": " + message;
      removes_.erase(f);
    }
  }
  remove_requests_.erase(r);
  return true;
}

}  // namespace dockmesh::broker

namespace dockmesh::broker {

nlohmann::json reconciler::with_status(nlohmann::json service, const reconcile_sources& src) const {
  using nlohmann::json;
  std::string id = service.value("id", "");
  json replicas = json::array();
  int running = 0;
  for (const auto& [fqdn, h] : src.hosts.hosts())
    for (const auto& c : src.containers.on_host(fqdn)) {
      auto key = parse_replica_request(c.request);
      if (!key || key->service != id) continue;
      bool up = h.status == host_status::up;
      if (up && c.state == "running") ++running;
      replicas.push_back({{"replica", key->replica},
                          {"generation", key->generation},
                          {"host", fqdn},
                          {"host_status", std::string(to_string(h.status))},
                          {"state", c.state},
                          {"container", c.id},
                          {"name", c.name}});
    }
  int pending = 0;
  for (const auto& [rid, f] : creates_) pending += f.service == id && !f.failed ? 1 : 0;
  json status = {{"desired", service.value("spec", json::object()).value("replicas", 1)},
                 {"running", running},
                 {"creating", pending},
                 {"replicas", std::move(replicas)},
                 {"checked", last_pass_ ? json(last_pass_) : json()}};
  auto e = last_error_.find(id);
  status["last_error"] = e == last_error_.end() ? json() : json(e->second);
  auto b = blocked_.find(id);
  status["blocked"] = b == blocked_.end() ? json() : json(b->second);
  status["update"] = update_status(service, status["replicas"]);
  service["status"] = std::move(status);
  return service;
}

}  // namespace dockmesh::broker
