// placement_ledger: instances the scheduler placed that the directory does not show yet. A
// scheduled create reaches its agent, is created and only then appears in the host's inventory;
// a burst of creates placed on the directory alone would all see the same idle host and land
// there. The ledger counts each placement against its host until the host's inventory shows a
// container labelled with the placement's request id, its fan-out reply comes back, or it
// expires (a failed create never shows). Expiry is kept in time order: a scan of every entry per
// request cost O(in-flight) on the hub loop, and a burst of creates keeps thousands in flight.
// Owned by the hub thread (inside create_dispatcher); never blocks; time is passed in.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/scheduler.hpp"

namespace dockmesh::broker {

class placement_ledger {
 public:
  static constexpr std::int64_t max_wait_ms = 30000;

  void add(const std::string& host, const std::string& request_id, int instances,
           std::int64_t expires_ms);
  // The request is answered or visible: it no longer counts.
  void settle(const std::string& request_id);
  // The host's inventory now lists containers of these request ids.
  void settle_seen(const std::string& host, const std::unordered_set<std::string>& request_ids);
  void expire(std::int64_t now_ms);
  bool empty() const { return by_request_.empty(); }
  // In-flight instances per host, for place(): counted there as running containers.
  const in_flight_counts& by_host() const { return by_host_; }

 private:
  struct entry {
    std::string host;
    int instances = 0;
    std::multimap<std::int64_t, std::string>::iterator expiry;
  };
  std::unordered_map<std::string, entry> by_request_;
  std::multimap<std::int64_t, std::string> by_expiry_;  // expires -> request id
  in_flight_counts by_host_;
};

}  // namespace dockmesh::broker
