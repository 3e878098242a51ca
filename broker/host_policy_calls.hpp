// host_policy_calls: the broker's answers to the host-policy-*, quota-* and team-* control calls
// of the catalogue (docs/services.md, "Host pools", "Teams", "Quotas", "Drain and cordon").
// Setting (and deleting a team) needs an admin: an admin key, or the bridge acting for an admin
// user (it sets `admin` from the authenticated user). Listing is for admin and bridge keys
// (team-list for the bridge and a user: that user's teams); host-policy-list adds each draining
// host's progress (service replicas left on it) from the container index. Owned by the hub
// thread, called from control_service; never blocks beyond a RocksDB write.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/container_index.hpp"
#include "broker/host_policy.hpp"
#include "broker/identity.hpp"
#include "common/envelope.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

// The control calls this answers (for control_service's routing table).
bool is_policy_call(std::string_view action);

class host_policy_calls {
 public:
  host_policy_calls(host_policy_book& book, const container_index& containers)
      : book_(book), containers_(containers) {}

  common::result<nlohmann::json> handle(role r, const common::envelope& req, std::int64_t now_ms);

  // Service replicas (containers made by the reconciler) on a host.
  static int replicas_on(const container_index& containers, const std::string& fqdn);

 private:
  nlohmann::json team_list(bool admin, const nlohmann::json& body) const;

  host_policy_book& book_;
  const container_index& containers_;
};

}  // namespace dockmesh::broker
