// inflight_requests: the targeted requests (req/host/<fqdn>/) this broker passed on and whose
// deadline has not passed, so that when the directory marks a host down the requests still
// waiting on it are answered at once (503 naming the host) instead of at their deadline.
// Replies are not decoded by the hub (they can be megabytes), so an entry stays until its
// deadline; a late 503 for a request that was already answered is ignored by its requester
// (requesters match replies to requests they still wait for). Bounded: the oldest entries go
// first. Owned by the hub thread (inside broker_core); never blocks; time is passed in.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "broker/publication.hpp"
#include "common/envelope.hpp"

namespace dockmesh::broker {

class inflight_requests {
 public:
  static constexpr std::size_t max_entries = 200000;
  static constexpr std::int64_t default_wait_ms = 60000;  // a request without a deadline

  explicit inflight_requests(std::string broker_client_id) : client_id_(std::move(broker_client_id)) {}

  void add(std::string_view host, const common::envelope& req, std::int64_t now_ms);
  // 503 replies for every request to `host` still in flight; they leave the table.
  publications host_down(std::string_view host, const std::string& message);
  // Drops entries whose deadline passed (from the front: entries are in arrival order).
  void expire(std::int64_t now_ms);
  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    std::string host;
    common::envelope request;  // id, reply_to, action, from: what a reply needs (body dropped)
    std::int64_t deadline = 0;
    bool answered = false;
  };
  std::string client_id_;
  std::deque<entry> entries_;
};

}  // namespace dockmesh::broker
