// host_policy: the admins' rules for hosts and users (docs/services.md, "Host pools", "Quotas",
// "Drain and cordon", "Teams"). A host belongs to the shared pool (pool "") or to one customer (a
// user id, or a team of users: "team:<name>", team_book.hpp); it may be cordoned (no new placements
// for anyone) or draining (its service replicas move elsewhere, `batch` at a time, before
// `deadline`). A user may have a quota (containers, memory bytes). The records live in the
// service_registry beside projects and services (RocksDB keys h/<fqdn> and q/<user>; with --etcd
// <prefix>services/h/<fqdn> and .../q/<user>, written and watched by the same path), so every
// broker holds the same rules. host_policy_book reads and writes them and answers the questions the
// scheduler, the request gate and the reconciler ask. Owned by the hub thread (through
// broker_core); never blocks beyond a RocksDB write.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/container_index.hpp"
#include "broker/request_gate.hpp"
#include "broker/service_registry.hpp"
#include "broker/team_book.hpp"
#include "common/envelope.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

struct host_policy {
  std::string fqdn;
  std::string pool;  // "" = the shared pool; else the owning user's id or "team:<name>"
  bool cordoned = false;
  bool draining = false;
  int drain_batch = 1;              // replicas moved at once
  std::int64_t drain_deadline = 0;  // unix ms; past it the rest are removed without waiting
  bool drain_all = false;           // also stop (not remove) the host's unmanaged containers
  std::int64_t version = 0;
  std::int64_t updated = 0;

  static host_policy from_json(const nlohmann::json& record);
  nlohmann::json to_json() const;
  // A host that takes new placements for nobody (cordoned, or being drained).
  bool closed() const { return cordoned || draining; }
};

struct user_quota {
  std::string user;
  std::int64_t containers = 0;  // 0 = no limit
  std::int64_t memory = 0;      // bytes; 0 = no limit
  static user_quota from_json(const nlohmann::json& record);
  nlohmann::json to_json() const;
};

class host_policy_book {
 public:
  explicit host_policy_book(service_registry& registry) : registry_(registry), teams_(registry) {}
  team_book& teams() { return teams_; }
  const team_book& teams() const { return teams_; }
  // Called with the fqdn after each local policy write (the scheduler's view of it is stale).
  void on_change(std::function<void(const std::string&)> fn) { changed_ = std::move(fn); }

  // The host's policy; the default one (shared, open) when none was set.
  host_policy policy_of(const std::string& fqdn) const;
  std::optional<user_quota> quota_of(const std::string& user) const;

  // host-policy-set: body {fqdn, pool?, cordoned?, draining?, batch?, deadline_s?, all?}; the
  // fields left out keep their value. 400 naming the field on bad input; 404 for the pool of a
  // team that does not exist.
  common::result<nlohmann::json> set_policy(const nlohmann::json& body, std::int64_t now_ms);
  // quota-set: body {user, containers?, memory?}; both 0 removes the quota.
  common::result<nlohmann::json> set_quota(const nlohmann::json& body, std::int64_t now_ms);
  nlohmann::json policies() const;
  nlohmann::json quotas(const std::string& user) const;  // "" = all

  // A targeted request from a user (not an admin) to a host of another customer's pool (not the
  // user's own, nor of a team that lists the user): 403.
  std::optional<gate_refusal> check_targeted(std::string_view host,
                                             const common::envelope& req) const;

  // Quotas (quota_check.cpp). A user's create-container (not an admin's) that would take the
  // user past its quota: 403 naming it. Counted from the directory: every container that
  // carries the user's owner label (running or not, service replicas included), and their
  // memory limits; a retry of a create that already made its containers is let through.
  std::optional<gate_refusal> check_create_quota(const common::envelope& req,
                                                 const container_index& containers) const;
  // A service of `owner` at `replicas` x `memory` (create, scale, update): 403 when the owner's
  // services at their desired counts, plus the owner's containers that belong to no service,
  // would pass the quota. `service_id` is the service changed ("" at create).
  common::result<void> check_service_quota(const std::string& owner, const std::string& service_id,
                                           std::int64_t replicas, std::int64_t memory,
                                           const container_index& containers) const;

 private:
  service_registry& registry_;
  team_book teams_;
  std::function<void(const std::string&)> changed_;
};

}  // namespace dockmesh::broker
