// unscheduled_requests: scheduled requests (req/any/) that reached a broker which cannot reach
// etcd, so that the requester hears why instead of silence. Such a broker does not schedule and
// cannot know whether another broker still can, so it holds the request for answer_after_ms: if
// a reply to it (or to one of its sub-requests, `<id>-<n>`) passes through this broker meanwhile,
// another broker took it and nothing is said; otherwise a 503 naming etcd's error goes to the
// requester. 2 s: longer than a create's usual answer (~0.3 s, docs/ha.md), shorter than a
// requester's patience. Bounded: the oldest entries go first. Owned by the hub thread (inside
// broker_core); never blocks; time is passed in.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "broker/publication.hpp"
#include "common/envelope.hpp"

namespace dockmesh::broker {

class unscheduled_requests {
 public:
  static constexpr std::int64_t answer_after_ms = 2000;
  static constexpr std::size_t max_entries = 10000;

  explicit unscheduled_requests(std::string broker_client_id)
      : client_id_(std::move(broker_client_id)) {}

  // A request this broker will not schedule because `why` (etcd's last error). A retry of the
  // same id restarts its wait and is answered to its own reply topic.
  void hold(const common::envelope& req, std::string why, std::int64_t now_ms);
  // A reply passed: `re` answers a held request or one of its sub-requests.
  void answered(const std::string& re);
  // 503s for requests held long enough; they leave the table.
  publications due(std::int64_t now_ms);
  std::size_t size() const { return by_id_.size(); }

 private:
  struct entry {
    common::envelope request;
    std::string why;
    std::int64_t due = 0;
  };
  std::string client_id_;
  std::unordered_map<std::string, entry> by_id_;
  std::deque<std::string> order_;  // arrival order, for the bound (may hold ids already gone)
};

}  // namespace dockmesh::broker
