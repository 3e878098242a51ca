// directory_snapshot: a broker's whole directory as one control reply (`directory-snapshot`,
// asked by a peer broker that starts late, docs/ha.md), and the loading of such a reply into
// host_directory and container_index. The body:
//   {"broker" (its client id, broker-<id>), "taken" (unix ms),
//    "hosts": [{fqdn, status, reason, record, record_version, presence_version, unregistered,
//               first_seen, last_seen, status_since, heard_ms_ago}],
//    "inventories": [{fqdn, version}],         one per host whose containers the peer knows
//    "containers": [container index entries]}  each with its `host`, one of the inventories
// Loading checks the whole snapshot first (types, bounds, fqdns, ids, versions that match the
// records, no duplicates) and applies nothing unless all of it is sound: a peer's answer is
// input like any other. Applied by the same last-writer-wins rules as announcements, so a
// snapshot older than what the broker holds changes nothing and announcements afterwards win.
// Pure functions on the hub's objects; called on the thread that owns them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "broker/container_index.hpp"
#include "broker/host_directory.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

// Bounds on what a snapshot may hold (a larger one is refused whole).
inline constexpr std::size_t snapshot_max_hosts = 100000;
inline constexpr std::size_t snapshot_max_containers = 1000000;

nlohmann::json make_directory_snapshot(const host_directory& hosts,
                                       const container_index& containers, const std::string& broker,
                                       std::int64_t now_ms);

struct snapshot_counts {
  std::size_t hosts = 0;          // in the snapshot
  std::size_t containers = 0;     // in the snapshot
  std::size_t hosts_adopted = 0;  // newer than what this broker held
  std::size_t inventories_adopted = 0;
};

// errc::malformed (with the first fault found) if anything in `body` is wrong; nothing is
// applied then.
common::result<snapshot_counts> load_directory_snapshot(const nlohmann::json& body,
                                                        host_directory& hosts,
                                                        container_index& containers,
                                                        std::int64_t now_ms);

}  // namespace dockmesh::broker
