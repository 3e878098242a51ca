// service_calls: the broker's answers to the project and service control calls of the catalogue
// (project-*, service-*; docs/services.md). It turns a request into a service_caller -- an admin
// key acts as admin (for `user` when given); the bridge's key must name the user it acts for and
// says whether that user is an admin -- and asks the service_registry. Owned by the hub thread,
// called from control_service; never blocks beyond the registry's RocksDB write.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/identity.hpp"
#include "broker/service_registry.hpp"
#include "common/envelope.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

// The control calls this answers (for control_service's routing table and its check).
bool is_service_call(std::string_view action);

class service_calls {
 public:
  explicit service_calls(service_registry& registry) : registry_(registry) {}

  // `r` is the calling key's role (admin or bridge; control_service checked it). The reply body
  // (2xx) or the error.
  common::result<nlohmann::json> handle(role r, const common::envelope& req, std::int64_t now_ms);
  // Adds the reconciler's view (`status`) to each service that service-get and -list answer.
  using status_fn = std::function<nlohmann::json(nlohmann::json service)>;
  void set_status(status_fn fn) { status_ = std::move(fn); }
  // The quota check for a user's (not an admin's) service-create, -scale and -update:
  // fn(owner, service id or "", replicas, memory per replica) (host_policy_book).
  using quota_fn = std::function<common::result<void>(const std::string&, const std::string&,
                                                      std::int64_t, std::int64_t)>;
  void set_quota_check(quota_fn fn) { quota_ = std::move(fn); }

 private:
  common::result<nlohmann::json> projects(const service_caller& who, const common::envelope& req,
                                          std::int64_t now_ms);
  common::result<nlohmann::json> services(const service_caller& who, const common::envelope& req,
                                          std::int64_t now_ms);

  common::result<void> within_quota(const service_caller& who, const common::envelope& req,
                                    const nlohmann::json& body) const;

  service_registry& registry_;
  status_fn status_;
  quota_fn quota_;
};

}  // namespace dockmesh::broker
