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
// shared pool or the service owner's (an admin-owned service, owner "", goes anywhere).
bool open_to(const desired_service& s, const host_view& h) {
  if (!h.placeable || h.cordoned || h.draining) return false;
  return common::pool_admits(h.pool, s.owner, s.owner.empty());
}

std::string pick_host(const desired_service& s, const service_view& v, const plan_input& in) {
  std::string best;
  std::tuple<int, int, std::string> best_rank{0, 0, ""};
  for (const auto& [fqdn, h] : in.hosts) {
    if (!open_to(s, h) || !fits(s, h)) continue;
    auto it = v.on_host.find(fqdn);
    std::tuple<int, int, std::string> rank{it == v.on_host.end() ? 0 : it->second, h.containers,
                                           fqdn};
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
    return std::make_tuple(!first, running(*r), -v.on_host[r->host], -r->key.replica);
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
