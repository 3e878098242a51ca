// control_service: the broker side of the control protocol (docs/architecture.md, "Control
// protocol"): directory queries, enrollment, key management, join tokens, stats. Requests come
// from the hub's ROUTER socket with the connection's identity (ZAP User-Id) and public key; the
// role is taken from the key's *current* state in the key_store, never from envelope fields, so
// a key revoked after it connected loses its rights on its next request. Owned by the hub
// thread; never blocks (key changes are single sync RocksDB writes, admin actions only).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/container_index.hpp"
#include "broker/host_directory.hpp"
#include "broker/host_policy_calls.hpp"
#include "broker/identity.hpp"
#include "broker/join_tokens.hpp"
#include "broker/key_store.hpp"
#include "broker/service_calls.hpp"
#include "common/envelope.hpp"
#include "common/protocol/catalogue.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

// Throws std::logic_error naming the call when the catalogue's control calls and the calls the
// service answers differ (checked at start-up and by the tests).
void check_control_routes(const common::protocol::catalogue& cat);

struct control_outcome {
  common::envelope reply;
  bool cut_off = false;  // an accepted key lost access: the hub must drop its live connections
};

class control_service {
 public:
  control_service(key_store& keys, join_tokens& tokens, host_directory& hosts,
                  container_index& containers, std::string broker_client_id);

  // `who` from the User-Id, `public_key` from the connection's Public-Key property.
  control_outcome handle(const identity& who, std::string_view public_key,
                         const common::envelope& req, std::int64_t now_ms);

  // What the `stats` action returns (the hub's counters).
  void set_stats_source(std::function<nlohmann::json()> fn) { stats_ = std::move(fn); }
  // What the `audit` control call returns (audit_log::query); admin and bridge keys only.
  using audit_fn = std::function<common::result<nlohmann::json>(const nlohmann::json&)>;
  void set_audit_source(audit_fn fn) { audit_ = std::move(fn); }
  // --etcd: an enrollment with a token is answered 202 and decided in etcd by one transaction
  // (spend the token, accept the key); every broker then learns the key from its watch.
  using spend_fn = std::function<void(const std::string& token_hash, const key_entry& accepted)>;
  void set_spend_in_etcd(spend_fn fn) { spend_in_etcd_ = std::move(fn); }
  // Who answers the project and service calls (503 without).
  void set_service_calls(service_calls* calls) { services_ = calls; }
  // Who answers host-policy-* and quota-* (503 without).
  void set_policy_calls(host_policy_calls* calls) { policies_ = calls; }
  // Adds a host's policy (pool, cordoned, draining) to each host that `hosts` and `host` answer.
  void set_host_view(std::function<void(nlohmann::json&)> fn) { host_view_ = std::move(fn); }

 private:
  role effective_role(const identity& who, std::string_view public_key) const;
  control_outcome queries(role r, const common::envelope& req);
  control_outcome service_call(role r, const common::envelope& req, std::int64_t now_ms);
  control_outcome policy_call(role r, const common::envelope& req, std::int64_t now_ms);
  control_outcome audit(const common::envelope& req) const;
  void with_host_state(nlohmann::json& container) const;
  control_outcome enroll(role r, std::string_view public_key, const common::envelope& req,
                         std::int64_t now_ms);
  control_outcome enroll_in_etcd(std::string_view public_key, const std::string& fqdn,
                                 const std::string& token, const common::envelope& req,
                                 std::int64_t now_ms);
  control_outcome key_admin(const common::envelope& req, std::int64_t now_ms);
  control_outcome ok(const common::envelope& req, int code, nlohmann::json body) const;
  control_outcome fail(const common::envelope& req, common::errc code, std::string message) const;

  key_store& keys_;
  join_tokens& tokens_;
  host_directory& hosts_;
  container_index& containers_;
  std::string client_id_;
  std::function<nlohmann::json()> stats_;
  audit_fn audit_;
  spend_fn spend_in_etcd_;
  service_calls* services_ = nullptr;
  host_policy_calls* policies_ = nullptr;
  std::function<void(nlohmann::json&)> host_view_;
};

}  // namespace dockmesh::broker
