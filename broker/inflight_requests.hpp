// inflight_requests: the targeted requests (req/host/<fqdn>/) this broker passed on and whose
// deadline has not passed, so that when the directory marks a host down the requests still
// waiting on it are answered at once (503 naming the host) instead of at their deadline.
// The hub reports replies it sees (small ones: it decodes replies under 64 KiB only), so an
// answered request leaves the table and a retry of the same id never meets a stale 503; an entry
// whose reply was too large to look at stays until its deadline. Bounded: the oldest entries go
// first. Owned by the hub thread (inside broker_core); never blocks; time is passed in.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/publication.hpp"
#include "common/envelope.hpp"

namespace dockmesh::broker {

class inflight_requests {
 public:
  static constexpr std::size_t max_entries = 200000;
  static constexpr std::int64_t default_wait_ms = 60000;  // a request without a deadline

  explicit inflight_requests(std::string broker_client_id)
      : client_id_(std::move(broker_client_id)) {}

  void add(std::string_view host, const common::envelope& req, std::int64_t now_ms);
  // 503 replies for every request to `host` still in flight; they leave the table.
  publications host_down(std::string_view host, const std::string& message);
  // A reply to `request_id` passed: the request is no longer in flight.
  void answered(const std::string& request_id);
  // Drops entries whose deadline passed (from the front: entries are in arrival order).
  void expire(std::int64_t now_ms);
  std::size_t size() const { return entries_.size(); }

 private:
  void pop_front();
  struct entry {
    std::string host;
    common::envelope request;  // id, reply_to, action, from: what a reply needs (body dropped)
    std::int64_t deadline = 0;
    bool answered = false;
  };
  std::string client_id_;
  std::deque<entry> entries_;
  std::uint64_t first_seq_ = 0;                           // sequence number of entries_.front()
  std::unordered_map<std::string, std::uint64_t> by_id_;  // newest entry per request id
};

}  // namespace dockmesh::broker
