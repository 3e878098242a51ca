// rate_limiter: counts failed logins per key (a user name, or a client address) in a sliding
// window; a key with `max_failures` failures inside `window` is blocked until the oldest of them
// leaves the window. The table is bounded (`max_keys`): when full, expired keys go first, then the
// key idle the longest, so a flood of random names cannot grow memory. Thread-safe (one mutex);
// never blocks beyond it. The clock is passed in, so tests need no sleeps.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace dockmesh::bridge {

struct rate_limit {
  std::size_t max_failures = 5;
  std::chrono::seconds window{60};
};

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;
  explicit rate_limiter(rate_limit limit, std::size_t max_keys = 10000);

  // How long until `key` may try again, or nullopt if it may try now.
  std::optional<std::chrono::seconds> blocked(const std::string& key, clock::time_point now);
  void record_failure(const std::string& key, clock::time_point now);
  void reset(const std::string& key);
  std::size_t size() const;

 private:
  void expire(std::deque<clock::time_point>& failures, clock::time_point now) const;
  void make_room(clock::time_point now);

  rate_limit limit_;
  std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::deque<clock::time_point>> failures_;
};

}  // namespace dockmesh::bridge
