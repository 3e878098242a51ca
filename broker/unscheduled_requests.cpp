#include "broker/unscheduled_requests.hpp"

namespace dockmesh::broker {

void unscheduled_requests::hold(const common::envelope& req, std::string why, std::int64_t now_ms) {
  if (req.reply_to.empty() || req.id.empty()) return;  // nobody to answer
  while (by_id_.size() >= max_entries && !order_.empty()) {
    by_id_.erase(order_.front());
    order_.pop_front();
  }
  auto [it, fresh] =
      by_id_.insert_or_assign(req.id, entry{req, std::move(why), now_ms + answer_after_ms});
  it->second.request.body = nullptr;  // only the envelope is needed to answer
  if (fresh) order_.push_back(req.id);
}

void unscheduled_requests::answered(const std::string& re) {
  if (by_id_.empty()) return;
  if (by_id_.erase(re)) return;
  // A sub-request of a fan-out placed by another broker: `<id>-<n>`.
  auto dash = re.rfind('-');
  if (dash != std::string::npos) by_id_.erase(re.substr(0, dash));
}

publications unscheduled_requests::due(std::int64_t now_ms) {
  publications out;
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    if (it->second.due > now_ms) {
      ++it;
      continue;
    }
    const auto& req = it->second.request;
    auto r = common::make_reply(req, client_id_, 503, nullptr);
    r.err = common::error{common::errc::unavailable,
                          client_id_ + " cannot reach etcd (" + it->second.why +
                              ") and no other broker answered: nothing was scheduled; retry "
                              "with the same id"};
    out.push_back({req.reply_to, std::move(r)});
    it = by_id_.erase(it);
  }
  while (!order_.empty() && !by_id_.count(order_.front())) order_.pop_front();
  return out;
}

}  // namespace dockmesh::broker
