// create_dispatcher: the scheduling broker's handling of `req/any/`. A create-container is
// placed by the scheduler and passed on to `req/host/<fqdn>/` with the same request id, so the
// agent's reply goes straight back to the requester. When `instances: N` lands on several hosts,
// one sub-request per host (id `<id>-<n>`, reply_to the broker's own rep/ topic) is sent and a
// single combined reply goes to the requester once every host answered or the deadline passed.
// A retry (same id, higher attempt) reuses the first placement, so it can never create
// containers on a second set of hosts; a finished fan-out answers a retry with its first reply,
// unless that reply failed only because hosts answered 503/504 or not at all: those are asked
// again (they did nothing, and a host that was down may be back).
// Placements are also written to the state_db (p/<request id>, no sync: a WAL write survives
// kill -9) before the request goes on, so a retry that reaches a restarted broker still goes to
// the same hosts. Placements count against their host until the directory shows them
// (placement_ledger), so a burst of creates spreads like a slow sequence would; spread
// instances are numbered across hosts (first_instance), so names run <name>-1..N. With --etcd
// (set_commit), a placement is first committed in etcd by a transaction that creates
// `placement/<id>` only if absent, and nothing is sent before etcd answers (on_placed): a broker
// that finds a placement there uses it, so a retry that reaches a new leader after a failover goes
// to the hosts the old leader chose. Every request sent carries the leader's fencing epoch
// (set_epoch). Owned by the hub thread; never blocks; time is passed in.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/placement_ledger.hpp"
#include "broker/publication.hpp"
#include "broker/scheduler.hpp"
#include "broker/state_db.hpp"
#include "common/envelope.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {

struct dispatch_counters {
  std::uint64_t scheduled = 0;    // requests placed
  std::uint64_t unplaceable = 0;  // 503: no host fits
  std::uint64_t invalid = 0;      // 400
  std::uint64_t retries = 0;      // answered from the placement cache
};

class create_dispatcher {
 public:
  using fleet_fn = std::function<const std::vector<host_candidate>&()>;

  create_dispatcher(std::string broker_client_id, std::uint64_t seed = std::random_device{}());
  // Persists placements in `db` from now on, and restores those younger than cache_ms.
  void attach(state_db& db, std::int64_t now_ms);

  publications on_request(const common::envelope& req, const fleet_fn& fleet, std::int64_t now_ms);
  publications on_reply(const common::envelope& rep, std::int64_t now_ms);
  // False when `re` answers a request this broker placed (or one of its sub-requests) and
  // `fqdn` is not a host it placed it on: the hub drops such a reply as forged.
  bool reply_from_placed_host(const std::string& re, std::string_view fqdn) const;
  // The hosts request `id` was placed on, if this broker still remembers it (a retry goes there).
  std::vector<std::string> placed_hosts(const std::string& id) const;
  // A host's new inventory: placements it now shows stop counting as in flight.
  void on_inventory(const std::string& host, const std::unordered_set<std::string>& request_ids) {
    ledger_.settle_seen(host, request_ids);
  }

  // etcd mode. commit(id, record, probe) asks for `placement/<id>` to be created with record if
  // absent (probe: only read it, when this broker could not place the request itself); the
  // answer comes back through on_placed with the record etcd holds.
  using commit_fn =
      std::function<void(const std::string& id, const nlohmann::json& record, bool probe)>;
  void set_commit(commit_fn fn) { commit_ = std::move(fn); }
  // The names of the teams that list a user (team_book): a user's request may also place on
  // their pools. Unset: no user is in a team.
  using teams_fn = std::function<std::vector<std::string>(const std::string& user)>;
  void set_teams_of(teams_fn fn) { teams_of_ = std::move(fn); }
  publications on_placed(const std::string& id, bool ok, const nlohmann::json& record,
                         const std::string& error, std::int64_t now_ms);
  void set_epoch(std::int64_t epoch) { epoch_ = epoch; }
  std::size_t awaiting_commit() const { return awaiting_.size(); }
  // Fan-outs past their deadline get their combined reply (504 for hosts that did not answer);
  // old entries leave the cache.
  publications tick(std::int64_t now_ms);

  const std::string& reply_topic() const { return reply_topic_; }
  // Sub-replies come to rep/<client_id>/ instead of rep/<broker client id>/ (the broker passes
  // its key-bound id, common/bus_identity.hpp, so that no agent can claim the topic).
  void reply_as(std::string_view client_id) { reply_topic_ = common::topic_rep(client_id).value(); }
  const dispatch_counters& counters() const { return counters_; }
  std::size_t pending_fanouts() const;

  static constexpr std::int64_t default_fanout_ms = 60000;
  static constexpr std::int64_t cache_ms = 10 * 60 * 1000;
  static constexpr std::size_t cache_entries = 4096;

 private:
  struct sub_request {
    std::string host;
    common::envelope env;
    std::optional<common::envelope> reply;
  };
  struct job {
    common::envelope request;
    std::vector<assignment> hosts;  // the placement
    std::vector<sub_request> subs;  // one entry and no reply tracking for a single-host job;
                                    // empty for a job restored from the database
    bool fanout = false;
    std::optional<common::envelope> combined;
    std::int64_t deadline = 0;
    std::int64_t created = 0;
  };

  publications retry(job& j, const common::envelope& req, std::int64_t now_ms);
  bool reopen(job& j, const common::envelope& req, std::int64_t now_ms);
  publications commit(const common::envelope& req, const placement_result& placed,
                      std::int64_t now_ms);
  publications start(const common::envelope& req, const std::vector<assignment>& hosts,
                     std::int64_t now_ms);
  void build_subs(job& j, const common::envelope& req, std::int64_t now_ms);
  publications send_unanswered(job& j, int attempt);
  void forget(const std::string& id);
  publication finish(job& j);
  publication reply(const common::envelope& req, int code, nlohmann::json body,
                    std::string message = {});
  void remember(std::string id, job j);

  std::string client_id_;
  std::string reply_topic_;
  state_db* db_ = nullptr;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, job> jobs_;
  std::unordered_map<std::string, std::string> sub_to_job_;
  std::deque<std::string> order_;
  dispatch_counters counters_;
  placement_ledger ledger_;
  commit_fn commit_;
  teams_fn teams_of_;
  struct awaiting {
    common::envelope request;
    std::string unplaced;  // why this broker could not place it (a probe), or empty
    nlohmann::json excluded;
  };
  std::unordered_map<std::string, awaiting> awaiting_;
  std::int64_t epoch_ = 0;
};

}  // namespace dockmesh::broker
