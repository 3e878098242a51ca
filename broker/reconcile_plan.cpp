#include "broker/reconcile_plan.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

#include "common/ownership.hpp"

namespace dockmesh::broker {
namespace {

enum class where { live, held, lost };

where place_of(const observed_replica& r, const desired_service& s, const plan_input& in) {
  auto h = in.hosts.find(r.host);
  if (h == in.hosts.end() || h->second.state == host_state::gone) return where::lost;
  if (h->second.state == host_state::up) return where::live;
  return in.now_ms - h->second.down_since < s.grace_ms ? where::held : where::lost;
}

bool running(const observed_replica& r) {
  return r.state == "running";
}

// One service's replicas, sorted out.
struct service_view {
  std::map<int, std::vector<const observed_replica*>> counted;  // live or held, by index
  std::vector<const observed_replica*> lost;
  std::set<int> used;                  // indices whose names exist or are on their way
  std::map<std::string, int> on_host;  // replicas (counted, pending, planned) per host
  int pending = 0;                     // pending creates not yet visible
};

service_view view_of(const desired_service& s, const std::vector<const observed_replica*>& mine,
                     const plan_input& in) {
  service_view v;
  for (const auto* r : mine) {
    v.used.insert(r->key.replica);
    if (in.pending_removes.count(r->container_id)) continue;
    auto w = place_of(*r, s, in);
    if (w == where::lost) {
      v.lost.push_back(r);
      continue;
    }
    v.counted[r->key.replica].push_back(r);
  }
  if (auto p = in.pending_creates.find(s.id); p != in.pending_creates.end())
    for (const auto& [index, host] : p->second) {
      v.used.insert(index);
      if (auto st = in.stale_creates.find(s.id);
          st != in.stale_creates.end() && st->second.count(index))
        continue;
      ++v.on_host[host];
      if (!v.counted.count(index)) ++v.pending;
    }
  return v;
}

// Several containers of one replica index (a create re-driven under a new version, a copy that
// came back): the best one stays (running, then on an up host); the others go.
void drop_duplicates(service_view& v, const plan_input& in, reconcile_plan& out) {
  for (auto& [index, copies] : v.counted) {
    std::stable_sort(copies.begin(), copies.end(), [&](const auto* a, const auto* b) {
      auto rank = [&](const observed_replica* r) {
        auto h = in.hosts.find(r->host);
        bool up = h != in.hosts.end() && h->second.state == host_state::up;
        return std::make_tuple(!running(*r), !up, r->container_id);
      };
      return rank(a) < rank(b);
    });
    for (std::size_t i = 1; i < copies.size(); ++i) {
      auto h = in.hosts.find(copies[i]->host);
      if (h != in.hosts.end() && h->second.state == host_state::up)
        out.removes.push_back({copies[i]->key.service, copies[i]->container_id, copies[i]->host,
                               index, remove_reason::duplicate});
    }
    copies.resize(1);
    ++v.on_host[copies.front()->host];
  }
}

bool fits(const desired_service& s, const host_view& h) {
  for (const auto& [key, value] : s.constraints) {
    auto it = h.labels.find(key);
    if (it == h.labels.end() || it->second != value) return false;
  }
  return true;
}

// May a new replica of `s` go to `h`? Up with Docker, not cordoned or draining, and in the
// shared pool, the service owner's or one of the owner's teams' (an admin-owned service, owner
// "", goes anywhere).
bool open_to(const desired_service& s, const host_view& h) {
  if (!h.placeable || h.cordoned || h.draining) return false;
  if (!s.pool.empty() && h.pool != (s.pool == "shared" ? std::string() : s.pool)) return false;
  return common::pool_admits(h.pool, s.owner, s.owner.empty(), s.owner_teams);
}

std::string pick_host(const desired_service& s, const service_view& v, const plan_input& in) {
  std::string best;
  std::tuple<int, int, std::string> best_rank{0, 0, ""};
  for (const auto& [fqdn, h] : in.hosts) {
    if (!open_to(s, h) || !fits(s, h)) continue;
    auto it = v.on_host.find(fqdn);
    int mine = it == v.on_host.end() ? 0 : it->second;
    // Spread: fewest of this service's replicas, then fewest containers; pack: the most of both.
    std::tuple<int, int, std::string> rank{s.pack ? -mine : mine,
                                           s.pack ? -h.containers : h.containers, fqdn};
    if (best.empty() || rank < best_rank) {
      best = fqdn;
      best_rank = rank;
    }
  }
  return best;
}

void add_creates(const desired_service& s, service_view& v, int need, const plan_input& in,
                 reconcile_plan& out) {
  int replacements = std::min<int>(need, static_cast<int>(v.lost.size()));
  int index = 1;
  for (int made = 0; made < need; ++made) {
    std::string host = pick_host(s, v, in);
    if (host.empty()) {
      out.blocked[s.id] = "no up host fits the service's placement";
      return;
    }
    while (v.used.count(index)) ++index;
    v.used.insert(index);
    ++v.on_host[host];
    // Filled field by field: GCC 12 at -O3 warns "may be used uninitialized" on the nested
    // braced temporary (a false positive, scripts/build_matrix.sh release).
    planned_create& c = out.creates.emplace_back();
    c.key.service = s.id;
    c.key.generation = s.generation;
    c.key.replica = index;
    c.key.version = s.version;
    c.host = std::move(host);
    c.replacement = made < replacements;
  }
}

void add_removes(const desired_service& s, service_view& v, int extra, const plan_input& in,
                 reconcile_plan& out) {
  std::vector<const observed_replica*> live;
  for (const auto& [index, copies] : v.counted) {
    auto h = in.hosts.find(copies.front()->host);
    if (h != in.hosts.end() && h->second.state == host_state::up) live.push_back(copies.front());
  }
  auto rank = [&](const observed_replica* r) {
    bool was_replaced = in.replaced.count(r->container_id) > 0;
    // remove-returned: the copies that came back go first; keep-returned: they go last.
    bool first = s.remove_returned ? was_replaced : !was_replaced;
    // Spread takes from the fullest host, pack from the emptiest (the others stay packed).
    int mine = v.on_host[r->host];
    return std::make_tuple(!first, running(*r), s.pack ? mine : -mine, -r->key.replica);
  };
  std::stable_sort(live.begin(), live.end(),
                   [&](const auto* a, const auto* b) { return rank(a) < rank(b); });
  for (int i = 0; i < extra && i < static_cast<int>(live.size()); ++i) {
    const auto* r = live[i];
    auto why =
        in.replaced.count(r->container_id) ? remove_reason::returned : remove_reason::scale_down;
    out.removes.push_back({s.id, r->container_id, r->host, r->key.replica, why});
    --v.on_host[r->host];
  }
}

// A rolling update is under way while a counted replica runs an older generation.
bool updating(const desired_service& s, const service_view& v) {
  for (const auto& [index, copies] : v.counted)
    if (!s.current(copies.front()->key.generation)) return true;
  return false;
}

bool through_gate(const observed_replica& r, const desired_service& s, std::int64_t now) {
  if (!running(r)) return false;
  // A container without a health check (its image has none) falls back to the running period.
  if (s.update.health_gate && !r.health.empty()) return r.health == "healthy";
  return r.running_since > 0 && now - r.running_since >= s.update.gate_ms;
}

// Why a replica of the new generation fails the update ("" while it may still pass).
std::string failure_of(const observed_replica& r, const desired_service& s, std::int64_t now) {
  std::string who = "replica " + std::to_string(r.key.replica) + " on " + r.host;
  if (r.state == "exited" || r.state == "dead" || r.state == "restarting")
    return who + " " + (r.state == "restarting" ? "restarted" : r.state);
  if (r.health == "unhealthy") return who + " is unhealthy";
  if (!through_gate(r, s, now) && r.seen_since > 0 && now - r.seen_since > s.update.deadline_ms)
    return who + " did not pass the " +
           (s.update.health_gate && !r.health.empty() ? "health" : "running") + " gate within " +
           std::to_string(s.update.deadline_ms / 1000) + " s";
  return "";
}

// One updating service's replicas: the old generation, and the new one with its gate.
struct update_view {
  std::vector<const observed_replica*> old, fresh;
  int passed = 0;
  bool waiting = false;           // a new replica (or a create in flight) is not through yet
  std::int64_t last_through = 0;  // when the latest new replica came through the gate
  std::string failure;
};

update_view sort_update(const desired_service& s, const service_view& v, const plan_input& in) {
  update_view u;
  u.waiting = v.pending > 0;
  for (const auto& [index, copies] : v.counted) {
    const auto* r = copies.front();
    if (!s.current(r->key.generation)) {
      u.old.push_back(r);
      continue;
    }
    u.fresh.push_back(r);
    if (u.failure.empty()) u.failure = failure_of(*r, s, in.now_ms);
    if (!through_gate(*r, s, in.now_ms)) {
      u.waiting = true;
      continue;
    }
    ++u.passed;
    u.last_through = std::max(u.last_through, r->running_since + s.update.gate_ms);
  }
  if (auto f = in.failed_creates.find(s.id); u.failure.empty() && f != in.failed_creates.end())
    u.failure = f->second;
  // Stopped ones go first, then the highest index.
  std::stable_sort(u.old.begin(), u.old.end(), [](const auto* a, const auto* b) {
    return std::make_tuple(running(*a), -a->key.replica) <
           std::make_tuple(running(*b), -b->key.replica);
  });
  return u;
}

void remove_first(const std::vector<const observed_replica*>& list, int n, remove_reason why,
                  reconcile_plan& out) {
  for (int i = 0; i < n && i < static_cast<int>(list.size()); ++i)
    out.removes.push_back(
        {list[i]->key.service, list[i]->container_id, list[i]->host, list[i]->key.replica, why});
}

// Paused after a failure: keep the count, drop new replicas before old ones, replace nothing.
void plan_paused(const desired_service& s, service_view& v, const update_view& u,
                 const plan_input& in, reconcile_plan& out) {
  int have = static_cast<int>(u.old.size() + u.fresh.size()) + v.pending;
  if (have < s.replicas) add_creates(s, v, s.replicas - have, in, out);
  std::vector<const observed_replica*> order = u.fresh;
  order.insert(order.end(), u.old.begin(), u.old.end());
  remove_first(order, have - s.replicas, remove_reason::scale_down, out);
}

// Start-first, batch by batch: a batch of new replicas is created at free indices; each one
// that comes through the gate lets one old replica go; the next batch starts once the whole
// batch is through and delay has passed. Serving replicas never drop below the count.
void plan_update(const desired_service& s, service_view& v, const plan_input& in,
                 reconcile_plan& out) {
  update_view u = sort_update(s, v, in);
  out.updated[s.id] = u.passed;
  if (s.update.halted) return plan_paused(s, v, u, in, out);
  if (!u.failure.empty() && s.update.on_failure != update_failure::ignore) {
    out.update_failed[s.id] = u.failure;
    return;  // the failure is acted on (rollback or pause) before anything else moves
  }
  int old_count = static_cast<int>(u.old.size());
  // Only where the host can be reached: one down within its grace keeps its replica counted.
  std::vector<const observed_replica*> reachable;
  for (const auto* r : u.old)
    if (auto h = in.hosts.find(r->host); h != in.hosts.end() && h->second.state == host_state::up)
      reachable.push_back(r);
  int surplus = std::min(static_cast<int>(reachable.size()), old_count + u.passed - s.replicas);
  if (surplus > 0) remove_first(reachable, surplus, remove_reason::updated, out);
  int old_left = old_count - std::max(surplus, 0);
  int current = static_cast<int>(u.fresh.size()) + v.pending;
  int missing = s.replicas - old_left - current;  // replicas lost meanwhile: made at once
  int batch = 0;
  if (!u.waiting && in.now_ms >= u.last_through + s.update.delay_ms)
    batch = std::min(s.update.batch_size, s.replicas - current);
  int n = std::max(missing, batch);
  if (n <= 0) return;
  add_creates(s, v, n, in, out);
  if (batch > 0) out.update_batches[s.id] = n;
}

// The counted replicas on up hosts that are being drained, and the drain's pace: the smallest
// batch among them, overdue if any is past its deadline.
struct drain_view {
  std::vector<const observed_replica*> replicas;
  int batch = 1000;
  bool overdue = false;
};

drain_view draining_of(const service_view& v, const plan_input& in) {
  drain_view d;
  for (const auto& [index, copies] : v.counted) {
    auto h = in.hosts.find(copies.front()->host);
    if (h == in.hosts.end() || h->second.state != host_state::up || !h->second.draining) continue;
    d.replicas.push_back(copies.front());
    d.batch = std::min(d.batch, std::max(1, h->second.drain_batch));
    d.overdue |= h->second.drain_overdue;
  }
  return d;
}

// A service with replicas on draining hosts: replacements are created elsewhere, at most
// `batch` not yet running at once; a draining replica is removed once enough run elsewhere
// (all of them, and the replacements all at once, past the deadline).
void plan_drain(const desired_service& s, service_view& v, const drain_view& d,
                const plan_input& in, reconcile_plan& out) {
  int moving = static_cast<int>(d.replicas.size());
  int staying = static_cast<int>(v.counted.size()) + v.pending - moving;
  int running_staying = 0;
  for (const auto& [index, copies] : v.counted) {
    const auto* r = copies.front();
    bool drains = std::find(d.replicas.begin(), d.replicas.end(), r) != d.replicas.end();
    if (running(*r) && !drains) ++running_staying;
  }
  int need = std::max(0, s.replicas - staying);
  int in_transit = staying - running_staying;
  int creates = d.overdue ? need : std::min(need, std::max(0, d.batch - in_transit));
  if (creates > 0) add_creates(s, v, creates, in, out);
  int removable = d.overdue ? moving : std::min(moving, running_staying + moving - s.replicas);
  std::vector<const observed_replica*> order = d.replicas;
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return std::make_tuple(running(*a), -a->key.replica) <
           std::make_tuple(running(*b), -b->key.replica);
  });
  for (int i = 0; i < removable; ++i) {
    const auto* r = order[i];
    out.removes.push_back({s.id, r->container_id, r->host, r->key.replica, remove_reason::drained});
  }
}

void plan_service(const desired_service& s, const std::vector<const observed_replica*>& mine,
                  const plan_input& in, reconcile_plan& out) {
  service_view v = view_of(s, mine, in);
  drop_duplicates(v, in, out);
  for (const auto* r : v.lost) out.lost.push_back(r->container_id);
  // An update goes first: its new replicas are placed away from draining (cordoned) hosts and
  // the old ones on them go as it proceeds; a drain then moves what is left.
  if (updating(s, v)) {
    plan_update(s, v, in, out);
    return;
  }
  if (auto d = draining_of(v, in); !d.replicas.empty()) return plan_drain(s, v, d, in, out);
  int have = static_cast<int>(v.counted.size()) + v.pending;
  if (have < s.replicas) add_creates(s, v, s.replicas - have, in, out);
  if (have > s.replicas) add_removes(s, v, have - s.replicas, in, out);
}

}  // namespace

std::string replica_request_id(const replica_key& k) {
  return "svc-" + k.service + "-g" + std::to_string(k.generation) + "-r" +
         std::to_string(k.replica) + "-v" + std::to_string(k.version) +
         (k.attempt > 0 ? "-a" + std::to_string(k.attempt) : "");
}

std::optional<replica_key> parse_replica_request(std::string_view id) {
  if (id.substr(0, 4) != "svc-") return std::nullopt;
  id.remove_prefix(4);
  replica_key k;
  auto dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  k.service = std::string(id.substr(0, dash));
  id.remove_prefix(dash);
  auto number = [&id](char tag, auto& value) {
    if (id.size() < 3 || id[0] != '-' || id[1] != tag) return false;
    auto [end, ec] = std::from_chars(id.data() + 2, id.data() + id.size(), value);
    if (ec != std::errc() || end == id.data() + 2 || value < 0) return false;
    id.remove_prefix(static_cast<std::size_t>(end - id.data()));
    return true;
  };
  if (!number('g', k.generation) || !number('r', k.replica) || !number('v', k.version) ||
      k.replica < 1)
    return std::nullopt;
  if (!id.empty() && (!number('a', k.attempt) || !id.empty() || k.attempt < 1)) return std::nullopt;
  return k;
}

std::string_view to_string(remove_reason r) {
  switch (r) {
    case remove_reason::scale_down:
      return "scale-down";
    case remove_reason::duplicate:
      return "duplicate";
    case remove_reason::returned:
      return "returned";
    case remove_reason::deleted:
      return "deleted";
    case remove_reason::updated:
      return "updated";
    case remove_reason::drained:
      return "drained";
  }
  return "scale-down";
}

reconcile_plan plan_reconcile(const plan_input& in) {
  reconcile_plan out;
  std::map<std::string, std::vector<const observed_replica*>> by_service;
  for (const auto& r : in.observed) by_service[r.key.service].push_back(&r);
  for (const auto& [id, s] : in.services) {
    auto it = by_service.find(id);
    static const std::vector<const observed_replica*> none;
    plan_service(s, it == by_service.end() ? none : it->second, in, out);
  }
  // Replicas of services that no longer exist: removed where their host can be reached.
  for (const auto& [id, mine] : by_service) {
    if (in.services.count(id)) continue;
    for (const auto* r : mine) {
      auto h = in.hosts.find(r->host);
      if (h == in.hosts.end() || h->second.state != host_state::up) continue;
      if (in.pending_removes.count(r->container_id)) continue;
      out.removes.push_back({id, r->container_id, r->host, r->key.replica, remove_reason::deleted});
    }
  }
  return out;
}

}  // namespace dockmesh::broker
