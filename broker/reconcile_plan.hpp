// reconcile_plan: the reconciler's decision, as a pure function. Given the services (desired),
// the replicas the container index shows (observed, recognised by their request id), the hosts
// and what the reconciler already has in flight, it lists the creates and removes that bring
// each service to its replica count: missing replicas go to the up host with the fewest replicas
// of that service; extras, duplicates of one replica index and replicas of deleted services are
// removed; a replica on a host down for less than the service's grace still counts, one down
// longer is replaced at the next free index (the directory still holds the old name). No thread
// affinity; never blocks; time is passed in.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dockmesh::broker {

// What a replica's request id says: svc-<service id>-g<generation>-r<replica>-v<version>, and
// -a<attempt> after a first attempt that failed. The version (the service record's count of
// changes) makes a replica index removed by a scale-down and wanted again later a new request;
// the attempt does the same for an index whose earlier request is spent (failed, timed out, or
// placed on a host that is now down: its placement would send a retry there again). The same id
// re-driven by a retry or by a new leader (which starts at attempt 0) is the same request, which
// the placement ledger and the agent dedup.
struct replica_key {
  std::string service;
  std::int64_t generation = 0;
  int replica = 0;
  std::int64_t version = 0;
  int attempt = 0;
  bool operator==(const replica_key&) const = default;
};
std::string replica_request_id(const replica_key& k);
std::optional<replica_key> parse_replica_request(std::string_view request_id);

// spec.update, as the planner uses it (docs/services.md "Rolling update").
enum class update_failure { rollback, pause, ignore };
struct update_policy {
  int batch_size = 1;
  std::int64_t delay_ms = 0;
  std::int64_t gate_ms = 5000;       // running continuously this long passes the gate
  std::int64_t deadline_ms = 35000;  // a new replica not through the gate by then fails the update
  bool health_gate = false;  // the gate is Docker's `healthy` (for a container with a check)
  update_failure on_failure = update_failure::rollback;  // ignore: this generation is a rollback
  bool halted = false;  // paused after a failure: nothing more is replaced
};

struct desired_service {
  std::string id;
  int replicas = 0;
  std::int64_t generation = 1;
  std::int64_t version = 1;
  std::int64_t grace_ms = 30000;
  bool remove_returned = true;                     // reschedule.on_return
  std::map<std::string, std::string> constraints;  // placement.constraints: host label = value
  // placement.pool: "" any pool open to the owner; "shared" the shared pool only; a user id or
  // "team:<name>": that pool only (and still only if it is open to the owner).
  std::string pool;
  // placement.strategy "pack": new replicas go where most of the service's replicas already
  // are (then the busiest host); "spread" (default): where fewest are (then the least busy).
  bool pack = false;
  update_policy update;
  // Older generations whose containers run what this one runs (the one a rollback went back
  // to): their replicas are current, not replaced.
  std::set<std::int64_t> same_generations;
  bool current(std::int64_t g) const { return g == generation || same_generations.count(g) > 0; }
  // The service's owner: its new replicas go to the shared pool, the owner's own and those of
  // the teams that list the owner (owner_teams, their names).
  std::string owner;
  std::vector<std::string> owner_teams;
};

struct observed_replica {
  std::string container_id;
  std::string host;
  std::string state;  // Docker's: running, created, exited, ...
  replica_key key;
  std::string health;              // Docker's: healthy, unhealthy, starting, or "" (no check)
  std::int64_t seen_since = 0;     // unix ms, when the reconciler first saw it
  std::int64_t running_since = 0;  // unix ms, since when it was seen running without a break; 0
};

enum class host_state { up, down, gone };
struct host_view {
  host_state state = host_state::up;
  bool placeable = false;       // up with Docker up: may take new replicas
  std::int64_t down_since = 0;  // unix ms, when not up
  int containers = 0;           // every container on it (ties in spread)
  std::map<std::string, std::string> labels;
  // The host's policy (host_policy.hpp): its pool ("" shared, a user's id or "team:<name>"); a
  // cordoned or draining host takes no new replicas; a draining one's replicas move elsewhere,
  // drain_batch at a time (a new one running elsewhere, then an old one removed), and all at once
  // when drain_overdue (past the drain's deadline).
  std::string pool;
  bool cordoned = false;
  bool draining = false;
  int drain_batch = 1;
  bool drain_overdue = false;
};

struct plan_input {
  std::map<std::string, desired_service> services;  // by id
  std::vector<observed_replica> observed;
  std::map<std::string, host_view> hosts;  // by fqdn; a host missing here is gone
  // Creates sent or backing off, by service id: replica index -> host.
  std::map<std::string, std::map<int, std::string>> pending_creates;
  std::set<std::string> pending_removes;  // container ids
  std::set<std::string> replaced;         // containers that were replaced while their host was away
  std::int64_t now_ms = 0;
  // Creates of a service's current generation that failed (the agent's message), by service id.
  std::map<std::string, std::string> failed_creates;
  // Creates in flight of a generation that is no longer current (sent before a rollback): their
  // index is taken, but they count for nothing; by service id.
  std::map<std::string, std::set<int>> stale_creates;
};

enum class remove_reason { scale_down, duplicate, returned, deleted, updated, drained };
std::string_view to_string(remove_reason r);

struct planned_create {
  replica_key key;
  std::string host;
  bool replacement = false;  // replaces a replica of a host down longer than the grace
};
struct planned_remove {
  std::string service;
  std::string container_id;
  std::string host;
  int replica = 0;
  remove_reason why = remove_reason::scale_down;
};
struct reconcile_plan {
  std::vector<planned_create> creates;
  std::vector<planned_remove> removes;
  std::vector<std::string> lost;  // container ids on hosts down past their service's grace
  std::map<std::string, std::string> blocked;  // service id -> why a needed create is not planned
  // Rolling updates: the services whose new generation failed (why), those that start a batch
  // now (its size), and each updating service's progress (replicas through the gate).
  std::map<std::string, std::string> update_failed;
  std::map<std::string, int> update_batches;
  std::map<std::string, int> updated;
};

reconcile_plan plan_reconcile(const plan_input& in);

}  // namespace dockmesh::broker
