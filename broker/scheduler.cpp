#include "broker/scheduler.hpp"

#include <algorithm>
#include <sstream>

#include "common/ownership.hpp"

namespace dockmesh::broker {
namespace {

using nlohmann::json;

enum class filter { candidates, pool, healthy, constraints, memory, unique, none };

bool satisfies(const host_candidate& h, const constraint& c) {
  for (const auto& [k, v] : h.labels)
    if (k == c.key) return (v == c.value) == c.equal;
  return !c.equal;  // a missing label satisfies only `!=`
}

filter first_exclusion(const host_candidate& h, const placement_request& r) {
  if (!r.candidates.empty() &&
      std::find(r.candidates.begin(), r.candidates.end(), h.fqdn) == r.candidates.end())
    return filter::candidates;
  if (h.closed || !common::pool_admits(h.pool, r.user, r.any_pool, r.teams)) return filter::pool;
  if (!h.up || !h.docker_up) return filter::healthy;
  for (const auto& c : r.constraints)
    if (!satisfies(h, c)) return filter::constraints;
  if (r.memory > 0 && h.memory_bytes - h.memory_reserved < r.memory) return filter::memory;
  if (r.unique && h.images.count(r.image)) return filter::unique;
  return filter::none;
}

struct slot {
  const host_candidate* host;
  int assigned = 0;
  std::int64_t free_memory = 0;
  int in_flight = 0;
  int load() const { return host->containers + in_flight + assigned; }
};

bool can_take(const slot& s, const placement_request& r) {
  if (r.unique && s.assigned > 0) return false;
  return r.memory == 0 || s.free_memory >= r.memory;
}

// Strict weak orders: the best host sorts first.
bool spread_better(const slot& a, const slot& b) {
  if (a.load() != b.load()) return a.load() < b.load();
  if (a.free_memory != b.free_memory) return a.free_memory > b.free_memory;
  return a.host->fqdn < b.host->fqdn;
}

bool binpack_better(const slot& a, const slot& b, bool by_memory) {
  if (by_memory && a.free_memory != b.free_memory) return a.free_memory < b.free_memory;
  if (a.load() != b.load()) return a.load() > b.load();
  return a.host->fqdn < b.host->fqdn;
}

slot* choose(std::vector<slot>& slots, const placement_request& r, std::mt19937_64& rng) {
  std::vector<slot*> able;
  for (auto& s : slots)
    if (can_take(s, r)) able.push_back(&s);
  if (able.empty()) return nullptr;
  switch (r.how) {
    case strategy::random:
      return able[std::uniform_int_distribution<std::size_t>(0, able.size() - 1)(rng)];
    case strategy::binpack:
      return *std::min_element(able.begin(), able.end(), [&](slot* a, slot* b) {
        return binpack_better(*a, *b, r.memory > 0);
      });
    case strategy::spread:
      break;
  }
  return *std::min_element(able.begin(), able.end(),
                           [](slot* a, slot* b) { return spread_better(*a, *b); });
}

std::string explain(const json& excluded, std::size_t total, const placement_request& r) {
  std::ostringstream m;
  m << "no host can take the container: " << total << " host(s) known";
  auto part = [&](const char* key, const std::string& what) {
    int n = excluded.value(key, 0);
    if (n > 0) m << "; " << n << " " << what;
  };
  part("candidates", "not in candidates");
  part("pool", "cordoned, draining or in another customer's pool");
  part("healthy", "down or without a working Docker");
  std::string cs;
  for (const auto& c : r.constraints)
    cs += (cs.empty() ? "" : ", ") + c.key + (c.equal ? "==" : "!=") + c.value;
  part("constraints", "excluded by constraints (" + cs + ")");
  part("memory", "without " + std::to_string(r.memory) + " bytes of free memory");
  part("unique", "already running " + r.image + " (unique)");
  return m.str();
}

}  // namespace

placement_result place(const std::vector<host_candidate>& hosts, const placement_request& req,
                       std::mt19937_64& rng, const in_flight_counts* in_flight) {
  placement_result out;
  out.excluded = {{"candidates", 0},  {"pool", 0},   {"healthy", 0},
                  {"constraints", 0}, {"memory", 0}, {"unique", 0}};
  static const char* names[] = {"candidates", "pool", "healthy", "constraints", "memory", "unique"};
  std::vector<slot> slots;
  for (const auto& h : hosts) {
    filter f = first_exclusion(h, req);
    if (f == filter::none)
      slots.push_back({&h, 0, h.memory_bytes - h.memory_reserved});
    else
      out.excluded[names[static_cast<int>(f)]] =
          out.excluded[names[static_cast<int>(f)]].get<int>() + 1;
  }
  if (slots.empty()) {
    out.message = explain(out.excluded, hosts.size(), req);
    return out;
  }
  if (in_flight && !in_flight->empty())
    for (auto& s : slots)
      if (auto it = in_flight->find(s.host->fqdn); it != in_flight->end()) s.in_flight = it->second;
  for (int i = 0; i < req.instances; ++i) {
    slot* s = choose(slots, req, rng);
    if (!s) {
      out.hosts.clear();
      out.message = "only " + std::to_string(i) + " of " + std::to_string(req.instances) +
                    " instances fit on the " + std::to_string(slots.size()) + " eligible host(s)" +
                    (req.unique ? " (unique allows one per host)" : "");
      return out;
    }
    if (s->assigned++ == 0) out.hosts.push_back({s->host->fqdn, 0});
    s->free_memory -= req.memory;
    for (auto& a : out.hosts)
      if (a.fqdn == s->host->fqdn) ++a.instances;
  }
  out.ok = true;
  return out;
}

}  // namespace dockmesh::broker
