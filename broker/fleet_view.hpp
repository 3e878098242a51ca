// fleet_view: the scheduler's picture of the fleet (one host_candidate per host), kept up to date
// incrementally. Building a candidate means walking the host's labels and containers; doing that
// for 1,000 hosts on every request cost ~1 ms of the hub loop, so candidates are rebuilt only for
// hosts whose directory entry changed (every change that matters to placement emits a
// directory_event naming the host; a bare heartbeat changes nothing the scheduler reads).
// Owned by the hub thread (through broker_core).
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/container_index.hpp"
#include "broker/directory_event.hpp"
#include "broker/host_directory.hpp"
#include "broker/scheduler.hpp"

namespace dockmesh::broker {

class fleet_view {
 public:
  // Marks the hosts named by these events (host-* body.fqdn, container-* body.host) for rebuild.
  void invalidate(const directory_events& events);
  void invalidate(const std::string& fqdn) { dirty_.insert(fqdn); }
  void invalidate_all() { all_dirty_ = true; }

  const std::vector<host_candidate>& get(const host_directory& hosts,
                                         const container_index& containers);

  static host_candidate build(const host_entry& h, const container_index& index);
  // Fills a candidate's pool and closed flag (host_policy); a policy change invalidates its host.
  void set_policy(std::function<void(host_candidate&)> fn) {
    policy_ = std::move(fn);
    all_dirty_ = true;
  }

 private:
  std::vector<host_candidate> hosts_;
  std::unordered_map<std::string, std::size_t> index_;
  std::unordered_set<std::string> dirty_;
  bool all_dirty_ = true;
  std::function<void(host_candidate&)> policy_;
  host_candidate make(const host_entry& h, const container_index& index) const {
    host_candidate c = build(h, index);
    if (policy_) policy_(c);
    return c;
  }
};

}  // namespace dockmesh::broker
