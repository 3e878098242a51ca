#include "agent/created_containers.hpp"

namespace dockmesh::agent {
namespace {

bool full_id(const std::string& id) {
  if (id.size() != 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

void created_containers::add(const std::string& id, entry e, clock::time_point now) {
  if (!full_id(id)) return;
  std::lock_guard lock(mutex_);
  // Docker never gives an id twice: a second add of one is a retry's report, the first stays.
  if (!by_id_.emplace(id, slot{std::move(e), now}).second) return;
  order_.push_back(id);
  while (order_.size() > capacity_) {
    by_id_.erase(order_.front());  // may be gone already (forget)
    order_.pop_front();
  }
}

std::optional<created_containers::entry> created_containers::find(const std::string& id,
                                                                  clock::time_point now) const {
  if (!full_id(id)) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(id);
  if (it == by_id_.end() || now - it->second.at > ttl_) return std::nullopt;
  return it->second.e;
}

void created_containers::forget(const std::string& id) {
  std::lock_guard lock(mutex_);
  by_id_.erase(id);
}

void created_containers::set_name(const std::string& id, const std::string& name) {
  std::lock_guard lock(mutex_);
  if (auto it = by_id_.find(id); it != by_id_.end()) it->second.e.name = name;
}

}  // namespace dockmesh::agent
