// hub_counters: what the hub's forwarding loop counts, as plain integers written by the hub thread
// only (no atomics on the per-message path). Read by the `stats` control call and copied into the
// Prometheus registry once per tick by broker_metrics, both on the hub thread.
#pragma once

#include <array>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "broker/topic_acl.hpp"

namespace dockmesh::broker {

enum class drop_reason { malformed, acl, subscription, count };

struct hub_counters {
  std::uint64_t forwarded = 0;
  std::uint64_t published = 0;  // the broker's own messages
  std::array<std::uint64_t, static_cast<int>(drop_reason::count)> dropped{};
  std::array<std::uint64_t, acl_decision_count> acl{};  // by acl_decision
  std::uint64_t subscriptions = 0;                      // applied
  std::uint64_t subscriptions_refused = 0;  // outside the subscriber's ACL, never applied
  std::uint64_t bus_rebinds = 0;
  std::uint64_t refused_full = 0;  // handshakes refused past --max-connections
  nlohmann::json to_json() const;
};

}  // namespace dockmesh::broker
