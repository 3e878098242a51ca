// reconciler's rolling-update side (declared in reconciler.hpp, docs/services.md "Rolling
// update"): the clocks of the gate (since when each replica was first seen, and since when it has
// been running without a break), what the planner must know about creates of old and new
// generations, the update events of a pass, and the `update` part of a service's status. Hub
// thread, like the rest of the reconciler; never blocks.
#include "broker/reconciler.hpp"

namespace dockmesh::broker {
namespace {

using nlohmann::json;

std::set<std::int64_t> current_generations(const json& record) {
  std::set<std::int64_t> out{record.value("generation", std::int64_t{1})};
  for (const auto& g : record.value("same_generations", json::array()))
    if (g.is_number_integer()) out.insert(g.get<std::int64_t>());
  return out;
}

}  // namespace

void reconciler::track_gates(plan_input& in, const reconcile_sources& src, std::int64_t now_ms) {
  std::set<std::string> seen;
  for (auto& r : in.observed) {
    seen.insert(r.container_id);
    r.seen_since = seen_since_.emplace(r.container_id, now_ms).first->second;
    // A replica seen stopped, even once, starts its running period again: a restart between
    // two looks is missed only when both looks find it running.
    if (r.state != "running") running_since_.erase(r.container_id);
    auto h = src.hosts.find(r.host);
    bool up = h && h->status == host_status::up;
    if (r.state == "running" && up)
      r.running_since = running_since_.emplace(r.container_id, now_ms).first->second;
  }
  std::erase_if(seen_since_, [&](const auto& e) { return !seen.count(e.first); });
  std::erase_if(running_since_, [&](const auto& e) { return !seen.count(e.first); });
}

void reconciler::note_update_creates(plan_input& in) {
  std::map<std::string, std::set<std::int64_t>> current;
  for (const auto& [id, s] : in.services) {
    current[id] = s.same_generations;
    current[id].insert(s.generation);
  }
  for (const auto& [request, f] : creates_) {
    auto key = parse_replica_request(request);
    auto c = current.find(f.service);
    if (!key || c == current.end()) continue;
    if (!c->second.count(key->generation))
      in.stale_creates[f.service].insert(f.replica);
    else if (f.failed && key->generation == in.services[f.service].generation)
      in.failed_creates[f.service] =
          last_error_.count(f.service) ? last_error_[f.service] : "a create failed";
  }
}

void reconciler::note_updates(const reconcile_plan& plan, const reconcile_sources& src,
                              reconcile_work& out) {
  const auto& services = src.services.services();
  auto base = [&](const std::string& id, const char* step) {
    auto s = services.find(id);
    json e = {{"service", id}, {"step", step}, {"owner", ""}, {"replicas", 0}, {"generation", 1}};
    if (s == services.end()) return e;
    e["owner"] = s->second.value("owner", "");
    e["replicas"] = s->second.value("spec", json::object()).value("replicas", 1);
    e["generation"] = s->second.value("generation", std::int64_t{1});
    return e;
  };
  auto progress = [&](const std::string& id) {
    auto u = plan.updated.find(id);
    return u == plan.updated.end() ? 0 : u->second;
  };
  for (const auto& [id, n] : plan.update_batches) {
    json e = base(id, "update-batch");
    e["batch"] = n;
    e["updated"] = progress(id);
    out.events.push_back(std::move(e));
  }
  // A service that was updating and no longer runs an old replica is done (unless it failed).
  std::map<std::string, std::int64_t> now_updating;
  for (const auto& [id, n] : plan.updated)
    if (auto s = services.find(id); s != services.end())
      now_updating[id] = s->second.value("generation", std::int64_t{1});
  for (const auto& [id, generation] : updating_) {
    auto s = services.find(id);
    if (now_updating.count(id) || s == services.end() || plan.update_failed.count(id)) continue;
    if (s->second.value("generation", std::int64_t{1}) != generation) continue;
    json e = base(id, "update-done");
    e["updated"] = e["replicas"];
    out.events.push_back(std::move(e));
  }
  updating_ = std::move(now_updating);
  out.update_failures = plan.update_failed;
}

json reconciler::update_status(const json& service, const json& replicas) const {
  std::int64_t generation = service.value("generation", std::int64_t{1});
  auto current = current_generations(service);
  int updated = 0;
  bool old = false;
  for (const auto& r : replicas) {
    bool mine = current.count(r.value("generation", std::int64_t{0})) > 0;
    old = old || !mine;
    if (mine && r.value("state", "") == "running" && r.value("host_status", "") == "up") ++updated;
  }
  const json st = service.value("update_status", json::object());
  std::string state = generation > 1 ? "done" : "idle";
  if (old) state = "updating";
  json error;
  if (st.value("generation", std::int64_t{0}) == generation) {
    state = st.value("state", state);
    error = st.value("error", json());
  }
  json out = {{"state", state},
              {"generation", generation},
              {"updated", updated},
              {"replicas", service.value("spec", json::object()).value("replicas", 1)},
              {"error", error}};
  if (st.contains("failed_generation")) out["failed_generation"] = st["failed_generation"];
  return out;
}

}  // namespace dockmesh::broker
