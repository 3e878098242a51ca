// reconciler: the scheduling broker's loop that keeps every service at its replica count
// (docs/services.md). Each pass reads the service registry, the host directory and the
// container index, asks reconcile_plan what to do, and returns the creates (create-container
// requests for req/any/, which the broker schedules like any other: placement committed in the
// ledger, etcd in HA, before it is sent, and fenced by the leader's epoch) and the removes
// (remove-container to req/host/<fqdn>/). It remembers what it has in flight so that a pass
// never sends the same replica twice, rate-limits creates and removes, backs off after a failed
// create, and keeps per-service status (last error, in-flight work). A pass runs when the
// registry's revision or the directory changed, and every few seconds, never more than every
// 250 ms. Owned by broker_core on the hub thread; never blocks; time is passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/container_index.hpp"
#include "broker/host_directory.hpp"
#include "broker/publication.hpp"
#include "broker/reconcile_plan.hpp"
#include "broker/service_registry.hpp"
#include "common/envelope.hpp"

namespace dockmesh::broker {

struct reconcile_sources {
  const service_registry& services;
  const host_directory& hosts;
  const container_index& containers;
};

// Who the reconciler's requests come from, and where their replies go.
struct reconcile_sender {
  std::string from;         // the broker's client id
  std::string reply_topic;  // the broker's own rep/ topic
  std::int64_t epoch = 0;   // the leader's fencing epoch (0 without etcd)
  // Whether a request id is already placed on a host that is not up now (its retry would go
  // there): such an id is spent and the replica takes its next attempt.
  std::function<bool(const std::string& request_id)> placed_on_down_host;
};

struct reconcile_work {
  std::vector<common::envelope> creates;  // for req/any/ (scheduled by the broker)
  publications removes;                   // on req/host/<fqdn>/ (and drain --all's stops)
  std::vector<nlohmann::json> events;     // service-reconcile bodies for dir/
  // Rolling updates that failed this pass (service id -> why): the broker rolls them back or
  // pauses them in the registry (service_registry::fail_update).
  std::map<std::string, std::string> update_failures;
};

class reconciler {
 public:
  static constexpr std::int64_t period_ms = 2000;
  static constexpr std::int64_t min_gap_ms = 250;
  static constexpr std::int64_t wait_ms = 30000;  // a create or remove not seen done by then
  static constexpr std::size_t max_creates_in_flight = 16;
  static constexpr std::size_t max_removes_in_flight = 32;

  bool due(std::uint64_t revision, std::int64_t now_ms) const;
  void directory_changed() { directory_changed_ = true; }
  reconcile_work pass(const reconcile_sources& src, const reconcile_sender& who,
                      std::int64_t now_ms);
  // A reply to one of the reconciler's requests (true), or not one of them (false).
  bool on_reply(const common::envelope& rep, std::int64_t now_ms);
  // This broker stopped scheduling: what it had in flight is no longer its to track.
  void reset();
  // The service record with its status: {desired, running, replicas: [...], last_error, ...}.
  nlohmann::json with_status(nlohmann::json service, const reconcile_sources& src) const;

 private:
  struct in_flight {
    std::string service;
    std::string owner;
    int replica = 0;
    std::string host;
    std::int64_t until = 0;  // forgotten then (sent + wait_ms, or failed + backoff)
    bool failed = false;
    std::int64_t backoff_ms = 0;  // reschedule.backoff_s of the service
  };
  plan_input gather(const reconcile_sources& src, std::int64_t now_ms);
  void settle(const plan_input& in, std::int64_t now_ms);
  void send_creates(const reconcile_plan& plan, const reconcile_sources& src,
                    const reconcile_sender& who, std::int64_t now_ms, reconcile_work& out);
  void send_removes(const reconcile_plan& plan, const reconcile_sources& src,
                    const reconcile_sender& who, std::int64_t now_ms, reconcile_work& out);
  // drain --all: stop (not remove) the running containers of no service on draining hosts.
  void send_drain_stops(const reconcile_sources& src, const reconcile_sender& who,
                        std::int64_t now_ms, reconcile_work& out);
  std::size_t creates_in_flight() const;
  std::string next_id(replica_key key, const reconcile_sender& who);
  // Rolling updates (reconciler_update.cpp): the gate's clocks per container, the inputs about
  // creates of old and new generations, and the update events of a pass.
  void track_gates(plan_input& in, const reconcile_sources& src, std::int64_t now_ms);
  void note_update_creates(plan_input& in);
  void note_updates(const reconcile_plan& plan, const reconcile_sources& src, reconcile_work& out);
  nlohmann::json update_status(const nlohmann::json& service, const nlohmann::json& replicas) const;

  std::map<std::string, in_flight> creates_;            // by request id
  std::map<std::string, in_flight> removes_;            // by container id
  std::map<std::string, std::string> remove_requests_;  // request id -> container id
  std::set<std::string> replaced_;                      // container ids
  std::map<std::string, std::int64_t> stops_;      // container id -> stop sent until (drain --all)
  std::map<std::string, int> attempts_;            // attempt-0 request id -> the attempt to use now
  std::map<std::string, std::string> last_error_;  // service id -> message
  std::map<std::string, std::string> blocked_;     // service id -> why
  std::vector<nlohmann::json> events_;             // from replies, sent with the next pass
  std::map<std::string, std::int64_t> seen_since_;     // container id -> first seen (unix ms)
  std::map<std::string, std::int64_t> running_since_;  // container id -> running since, unbroken
  std::map<std::string, std::int64_t> updating_;       // service id -> generation rolling out
  std::uint64_t revision_seen_ = 0;
  bool directory_changed_ = true;
  std::int64_t last_pass_ = 0;
};

}  // namespace dockmesh::broker
