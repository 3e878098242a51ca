#include "broker/inflight_requests.hpp"

namespace dockmesh::broker {

void inflight_requests::add(std::string_view host, const common::envelope& req,
                            std::int64_t now_ms) {
  if (req.reply_to.empty() || req.id.empty()) return;  // nobody to answer
  while (entries_.size() >= max_entries) pop_front();
  by_id_[req.id] = first_seq_ + entries_.size();
  entry e;
  e.host = std::string(host);
  e.request.id = req.id;
  e.request.attempt = req.attempt;
  e.request.action = req.action;
  e.request.from = req.from;
  e.request.reply_to = req.reply_to;
  e.deadline = req.deadline > now_ms ? req.deadline : now_ms + default_wait_ms;
  entries_.push_back(std::move(e));
}

publications inflight_requests::host_down(std::string_view host, const std::string& message) {
  publications out;
  for (auto& e : entries_) {
    if (e.answered || e.host != host) continue;
    e.answered = true;
    auto r = common::make_reply(e.request, client_id_, 503, {{"host", e.host}});
    r.err = common::error{common::errc::unavailable, message};
    out.push_back({e.request.reply_to, std::move(r)});
  }
  return out;
}

void inflight_requests::answered(const std::string& request_id) {
  auto it = by_id_.find(request_id);
  if (it == by_id_.end()) return;
  if (it->second >= first_seq_ && it->second - first_seq_ < entries_.size())
    entries_[it->second - first_seq_].answered = true;
  by_id_.erase(it);
}

void inflight_requests::pop_front() {
  auto it = by_id_.find(entries_.front().request.id);
  if (it != by_id_.end() && it->second == first_seq_) by_id_.erase(it);
  entries_.pop_front();
  ++first_seq_;
}

void inflight_requests::expire(std::int64_t now_ms) {
  while (!entries_.empty() && (entries_.front().answered || entries_.front().deadline <= now_ms))
    pop_front();
}

}  // namespace dockmesh::broker
