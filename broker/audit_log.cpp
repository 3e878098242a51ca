#include "broker/audit_log.hpp"

#include "common/protocol/catalogue.hpp"
#include "common/protocol/names.hpp"

#include <array>
#include <cstdio>

#include <rocksdb/write_batch.h>

#include "common/log.hpp"

namespace dockmesh::broker {
namespace {

using nlohmann::json;

constexpr std::string_view prefix = "a/";
constexpr std::size_t max_limit = 1000;

std::string seq_key(std::uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "a/%020llu", static_cast<unsigned long long>(seq));
  return buf;
}

std::uint64_t seq_of(std::string_view key) {
  if (key.size() <= prefix.size()) return 0;
  return std::strtoull(std::string(key.substr(prefix.size())).c_str(), nullptr, 10);
}

// The one field that names what an action acts on; never a value that may hold a secret.
std::string target_of(const common::envelope& req) {
  if (!req.body.is_object()) return {};
  for (const char* f : {"id", "name", "image", "template", "key", "fqdn"}) {
    auto it = req.body.find(f);
    if (it != req.body.end() && it->is_string()) return it->get<std::string>().substr(0, 256);
  }
  return {};
}

std::string clip(std::string_view s) {
  return std::string(s.substr(0, 256));
}

}  // namespace

json audit_entry::to_json() const {
  return {{"time", time_ms},  {"who", who},
          {"key", key},       {"peer", peer},
          {"user", user},     {"role", role},
          {"action", action}, {"host", host},
          {"target", target}, {"request_id", request_id},
          {"code", code}};
}

audit_entry audit_caller(std::string who, std::string key, std::string peer) {
  audit_entry e;
  e.who = std::move(who);
  e.key = std::move(key);
  e.peer = std::move(peer);
  return e;
}

void audit_log::attach(state_db& db) {
  db_ = &db;
  auto [first, last] = db.key_range(prefix);
  if (!last.empty()) {
    first_seq_ = seq_of(first);
    next_seq_ = seq_of(last) + 1;
  }
}

bool audit_log::is_state_changing(std::string_view a) {
  // The catalogue says which messages create, change or remove something.
  const auto* spec = common::protocol::catalogue::builtin().find(a);
  return spec && spec->changes_state;
}

void audit_log::on_request(audit_entry who, std::string host, const common::envelope& req,
                           std::int64_t now_ms) {
  if (!is_state_changing(req.action) || waiting_.count(req.id)) return;
  who.time_ms = now_ms;
  who.user = clip(req.user);
  who.role = clip(req.role);
  who.action = req.action;
  who.host = std::move(host);
  who.target = target_of(req);
  who.request_id = clip(req.id);
  if (waiting_.size() >= max_waiting) {  // a flood of unanswered requests: record the oldest
    auto oldest = waiting_order_.front().second;
    waiting_order_.pop_front();
    if (auto it = waiting_.find(oldest); it != waiting_.end()) {
      append(std::move(it->second));
      waiting_.erase(it);
    }
  }
  waiting_order_.emplace_back(now_ms, req.id);
  waiting_.emplace(req.id, std::move(who));
}

void audit_log::on_reply(const std::string& re, int code, std::int64_t now_ms,
                         std::string_view action) {
  if (action == common::protocol::names::stream_end) {
    auto s = sessions_.find(re);
    if (s == sessions_.end()) return;
    audit_entry end = std::move(s->second);
    sessions_.erase(s);
    end.action = end.action.substr(0, end.action.rfind("-start")) + "-end";
    end.time_ms = now_ms;
    end.code = code;
    append(std::move(end));
    return;
  }
  auto it = waiting_.find(re);
  if (it == waiting_.end()) return;
  it->second.code = code;
  if (code == 200 && common::protocol::opens_stream(it->second.action)) {
    if (session_order_.size() >= max_waiting) {  // sessions that never ended: forget the oldest
      sessions_.erase(session_order_.front());
      session_order_.pop_front();
    }
    sessions_[re] = it->second;
    session_order_.push_back(re);
  }
  append(std::move(it->second));
  waiting_.erase(it);
}

void audit_log::on_control(audit_entry who, const common::envelope& req, int code,
                           std::int64_t now_ms) {
  if (!is_state_changing(req.action)) return;
  who.time_ms = now_ms;
  who.action = req.action;
  who.target = target_of(req);
  who.request_id = clip(req.id);
  who.code = code;
  append(std::move(who));
}

void audit_log::append(audit_entry e) {
  unwritten_.push_back(std::move(e));
}

void audit_log::tick(std::int64_t now_ms) {
  while (!waiting_order_.empty() && now_ms - waiting_order_.front().first > reply_wait_ms) {
    auto id = std::move(waiting_order_.front().second);
    waiting_order_.pop_front();
    if (auto it = waiting_.find(id); it != waiting_.end()) {
      append(std::move(it->second));  // code 0: no reply came
      waiting_.erase(it);
    }
  }
  if (unwritten_.empty() || !db_) return;
  rocksdb::WriteBatch batch;
  for (const auto& e : unwritten_) batch.Put(seq_key(next_seq_++), state_db::pack(e.to_json()));
  if (next_seq_ - first_seq_ > capacity_) {
    std::uint64_t keep_from = next_seq_ - capacity_;
    batch.DeleteRange(seq_key(first_seq_), seq_key(keep_from));
    first_seq_ = keep_from;
  }
  if (auto ok = db_->write(batch, false); !ok) {
    DM_LOG(error) << "writing the audit log: " << ok.err().message;
  }
  written_ += unwritten_.size();
  unwritten_.clear();
}

common::result<json> audit_log::query(const json& body) const {
  std::int64_t since = 0;
  std::size_t limit = 100;
  std::string user;
  if (body.is_object()) {
    if (auto s = body.find("since"); s != body.end()) {
      if (!s->is_number_integer())
        return common::make_error(common::errc::invalid_argument,
                                  "since must be unix milliseconds");
      since = s->get<std::int64_t>();
    }
    if (auto l = body.find("limit"); l != body.end()) {
      if (!l->is_number_integer() || l->get<std::int64_t>() < 1 || l->get<std::int64_t>() > 1000)
        return common::make_error(common::errc::invalid_argument, "limit must be 1..1000");
      limit = l->get<std::size_t>();
    }
    if (auto u = body.find("user"); u != body.end()) {
      if (!u->is_string())
        return common::make_error(common::errc::invalid_argument, "user must be a string");
      user = u->get<std::string>();
    }
  }
  json entries = json::array();
  if (!db_) return json{{"entries", entries}};
  // Unwritten entries (this tick's) are newer than any stored one.
  auto keep = [&](const json& e) {
    if (e.value("time", std::int64_t{0}) < since) return false;
    if (!user.empty() && e.value("user", "") != user && e.value("who", "") != user) return true;
    entries.push_back(e);
    return entries.size() < std::min(limit, max_limit);
  };
  for (auto it = unwritten_.rbegin(); it != unwritten_.rend(); ++it)
    if (!keep(it->to_json())) return json{{"entries", entries}};
  db_->for_each_backwards(prefix, [&](std::string_view, const json& e) { return keep(e); });
  return json{{"entries", entries}};
}

}  // namespace dockmesh::broker
