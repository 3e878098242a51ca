#include "broker/placement_ledger.hpp"

namespace dockmesh::broker {

void placement_ledger::add(const std::string& host, const std::string& request_id, int instances,
                           std::int64_t expires_ms) {
  if (by_request_.count(request_id)) return;  // a retry of a placement already counted
  by_request_[request_id] = {host, instances, by_expiry_.emplace(expires_ms, request_id)};
  by_host_[host] += instances;
}

void placement_ledger::settle(const std::string& request_id) {
  auto it = by_request_.find(request_id);
  if (it == by_request_.end()) return;
  auto h = by_host_.find(it->second.host);
  if (h != by_host_.end() && (h->second -= it->second.instances) <= 0) by_host_.erase(h);
  by_expiry_.erase(it->second.expiry);
  by_request_.erase(it);
}

void placement_ledger::settle_seen(const std::string& host,
                                   const std::unordered_set<std::string>& request_ids) {
  if (!by_host_.count(host)) return;
  std::vector<std::string> done;
  for (const auto& [id, e] : by_request_)
    if (e.host == host && request_ids.count(id)) done.push_back(id);
  for (const auto& id : done) settle(id);
}

void placement_ledger::expire(std::int64_t now_ms) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_ms) {
    std::string id = by_expiry_.begin()->second;  // a copy: settle() erases the node
    settle(id);
  }
}

}  // namespace dockmesh::broker
