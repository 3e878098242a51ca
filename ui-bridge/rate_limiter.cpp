#include "ui-bridge/rate_limiter.hpp"

#include <algorithm>

namespace dockmesh::bridge {

rate_limiter::rate_limiter(rate_limit limit, std::size_t max_keys)
    : limit_(limit), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

void rate_limiter::expire(std::deque<clock::time_point>& failures, clock::time_point now) const {
  while (!failures.empty() && failures.front() + limit_.window <= now) failures.pop_front();
}

std::optional<std::chrono::seconds> rate_limiter::blocked(const std::string& key,
                                                          clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return std::nullopt;
  expire(it->second, now);
  if (it->second.size() < limit_.max_failures) return std::nullopt;
  // Blocked until enough failures age out to drop below the limit.
  auto idx = it->second.size() - limit_.max_failures;
  auto until = it->second[idx] + limit_.window;
  auto secs = std::chrono::ceil<std::chrono::seconds>(until - now);
  return std::max(secs, std::chrono::seconds(1));
}

void rate_limiter::record_failure(const std::string& key, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  if (it == failures_.end()) {
    if (failures_.size() >= max_keys_) make_room(now);
    it = failures_.emplace(key, std::deque<clock::time_point>{}).first;
  }
  expire(it->second, now);
  it->second.push_back(now);
  // Only the newest max_failures entries decide whether the key is blocked.
  while (it->second.size() > limit_.max_failures) it->second.pop_front();
}

void rate_limiter::make_room(clock::time_point now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    expire(it->second, now);
    it = it->second.empty() ? failures_.erase(it) : std::next(it);
  }
  if (failures_.size() < max_keys_) return;
  auto idle = std::min_element(failures_.begin(), failures_.end(),
                               [](auto& a, auto& b) { return a.second.back() < b.second.back(); });
  failures_.erase(idle);
}

void rate_limiter::reset(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

std::size_t rate_limiter::size() const {
  std::lock_guard lock(mutex_);
  return failures_.size();
}

}  // namespace dockmesh::bridge
