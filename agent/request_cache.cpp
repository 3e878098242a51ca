#include "agent/request_cache.hpp"

namespace dockmesh::agent {

request_cache::outcome request_cache::begin(const common::envelope& request,
                                            const common::envelope** cached) {
  auto it = entries_.find(request.id);
  if (it == entries_.end()) {
    entries_.emplace(request.id, entry{request.user, request.role, std::nullopt});
    order_.push_back(request.id);
    evict();
    return outcome::fresh;
  }
  if (it->second.user != request.user || it->second.role != request.role) return outcome::foreign;
  if (!it->second.reply) return outcome::running;
  *cached = &*it->second.reply;
  return outcome::answered;
}

void request_cache::complete(const std::string& id, common::envelope reply) {
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.reply = std::move(reply);
}

void request_cache::abandon(const std::string& id) {
  entries_.erase(id);
}

void request_cache::evict() {
  // Running entries are never evicted (their number is bounded by the job queue); finished ones
  // go oldest first. Ids already abandoned are skipped.
  std::size_t scanned = 0;
  while (entries_.size() > capacity_ && scanned < order_.size()) {
    std::string id = std::move(order_.front());
    order_.pop_front();
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    if (!it->second.reply) {
      order_.push_back(std::move(id));
      ++scanned;
      continue;
    }
    entries_.erase(it);
  }
  // Keep the order list from growing with abandoned ids.
  while (order_.size() > 2 * capacity_ + 16 && !entries_.count(order_.front())) order_.pop_front();
}

}  // namespace dockmesh::agent
