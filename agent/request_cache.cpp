#include "agent/request_cache.hpp"

namespace dockmesh::agent {

request_cache::outcome request_cache::begin(const common::envelope& request,
                                            common::envelope* cached) {
  auto it = entries_.find(request.id);
  if (it == entries_.end()) {
    entries_.emplace(request.id, entry{request.user, request.role, std::nullopt});
    order_.push_back(request.id);
    evict();
    return outcome::fresh;
  }
  if (it->second.user != request.user || it->second.role != request.role) return outcome::foreign;
  if (!it->second.reply) return outcome::running;
  // We encoded it ourselves, so it decodes; if it somehow did not, running the action again is
  // wrong for a create, so the retry is dropped like one that arrives while running.
  auto decoded = common::decode(*it->second.reply);
  if (!decoded) return outcome::running;
  *cached = std::move(*decoded);
  return outcome::answered;
}

void request_cache::complete(const std::string& id, const common::envelope& reply) {
  complete_encoded(id, common::encode(reply));
}

void request_cache::complete_encoded(const std::string& id, std::string reply) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.reply) return;
  bytes_ += reply.size();
  it->second.reply = std::move(reply);
  evict();
}

void request_cache::abandon(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.reply) bytes_ -= it->second.reply->size();
  entries_.erase(it);
}

void request_cache::evict() {
  // Running entries are never evicted (their number is bounded by the job queue); finished ones
  // go oldest first. Ids already abandoned are skipped.
  std::size_t scanned = 0;
  while (over_bounds() && scanned < order_.size()) {
    std::string id = std::move(order_.front());
    order_.pop_front();
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    if (!it->second.reply) {
      order_.push_back(std::move(id));
      ++scanned;
      continue;
    }
    bytes_ -= it->second.reply->size();
    entries_.erase(it);
  }
  // Keep the order list from growing with abandoned ids.
  while (order_.size() > 2 * capacity_ + 16 && !entries_.count(order_.front())) order_.pop_front();
}

}  // namespace dockmesh::agent
