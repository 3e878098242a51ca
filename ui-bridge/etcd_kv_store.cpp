#include "ui-bridge/etcd_kv_store.hpp"

#include <chrono>

#include "common/log.hpp"

namespace dockmesh::bridge {
namespace {

using common::errc;
using namespace std::chrono_literals;

constexpr auto call_timeout = 1000ms;      // per endpoint, for each write
constexpr auto watch_stream_for = 5000ms;  // a stream is renewed this often (a frozen member)

std::string join(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

etcd_kv_store::etcd_kv_store(std::vector<std::string> endpoints, std::string prefix)
    : prefix_(std::move(prefix)),
      endpoints_(endpoints),
      writer_(std::move(endpoints), call_timeout) {
  auto snap = writer_.range(prefix_, true);
  if (!snap)
    throw std::runtime_error("cannot read the bridge's users from etcd at " + join(endpoints_) +
                             ": " + snap.err().message);
  load(*snap);
  watcher_ = std::thread([this] { follow(); });
}

etcd_kv_store::~etcd_kv_store() {
  stop_ = true;
  if (watcher_.joinable()) watcher_.join();
}

void etcd_kv_store::load(const common::etcd_range& snapshot) {
  std::map<std::string, record, std::less<>> fresh;
  for (const auto& kv : snapshot.kvs)
    fresh[kv.key.substr(prefix_.size())] = record{kv.value, kv.mod_revision};
  std::unique_lock lock(copy_mutex_);
  copy_ = std::move(fresh);
  next_revision_ = snapshot.revision + 1;
}

// Events arrive in etcd's order; one older than what a write of ours already put in the copy is
// skipped (its newer successor is on its way).
void etcd_kv_store::apply(const common::etcd_event& e) {
  if (e.kv.key.size() < prefix_.size()) return;
  std::string key = e.kv.key.substr(prefix_.size());
  std::unique_lock lock(copy_mutex_);
  auto it = copy_.find(key);
  if (it == copy_.end() || it->second.mod_revision <= e.kv.mod_revision) {
    if (e.deleted)
      copy_.erase(key);
    else
      copy_[key] = record{e.kv.value, e.kv.mod_revision};
  }
  next_revision_ = std::max(next_revision_, e.kv.mod_revision + 1);
}

void etcd_kv_store::note(std::string_view key, std::string value, std::int64_t mod_revision) {
  std::unique_lock lock(copy_mutex_);
  auto it = copy_.find(key);
  if (it == copy_.end())
    copy_.emplace(std::string(key), record{std::move(value), mod_revision});
  else if (it->second.mod_revision <= mod_revision)
    it->second = record{std::move(value), mod_revision};
}

common::error etcd_kv_store::unavailable(std::string_view what, const common::error& e) const {
  return {errc::unavailable, "cannot " + std::string(what) + ": etcd at " + join(endpoints_) +
                                 " did not take the write (" + e.message + ")"};
}

void etcd_kv_store::follow() {
  common::etcd_client client(endpoints_, call_timeout);
  while (!stop_) {
    std::int64_t from;
    {
      std::shared_lock lock(copy_mutex_);
      from = next_revision_;
    }
    auto on_events = [this](const std::vector<common::etcd_event>& events, std::int64_t) {
      for (const auto& e : events) apply(e);
    };
    auto w = client.watch(prefix_, from, on_events, stop_, watch_stream_for);
    if (w || stop_) continue;  // streams end every few seconds by design
    // Compacted past our revision, or etcd unreachable: take a new snapshot once it answers.
    DM_LOG(warn) << "etcd watch of the bridge's users: " << w.err().message
                 << "; reading them again";
    while (!stop_) {
      if (auto snap = client.range(prefix_, true)) {
        load(*snap);
        break;
      }
      for (int i = 0; i < 5 && !stop_; ++i) std::this_thread::sleep_for(100ms);
    }
  }
}

common::result<std::optional<std::string>> etcd_kv_store::get(std::string_view key) const {
  std::shared_lock lock(copy_mutex_);
  auto it = copy_.find(key);
  if (it == copy_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second.value);
}

common::result<void> etcd_kv_store::put(std::string_view key, std::string_view value, durability) {
  std::lock_guard lock(writer_mutex_);
  auto rev = writer_.put(prefix_ + std::string(key), value);
  if (!rev) return unavailable("store " + std::string(key), rev.err());
  note(key, std::string(value), *rev);
  return {};
}

common::result<bool> etcd_kv_store::create(std::string_view key, std::string_view value) {
  std::lock_guard lock(writer_mutex_);
  auto txn = writer_.create_if_absent(prefix_ + std::string(key), value);
  if (!txn) return unavailable("store " + std::string(key), txn.err());
  if (!txn->succeeded) {
    for (const auto& kv : txn->kvs) note(key, kv.value, kv.mod_revision);  // learn it now
    return false;
  }
  note(key, std::string(value), txn->revision);
  return true;
}

common::result<void> etcd_kv_store::remove(std::string_view key, durability) {
  std::lock_guard lock(writer_mutex_);
  if (auto n = writer_.erase(prefix_ + std::string(key)); !n)
    return unavailable("remove " + std::string(key), n.err());
  std::unique_lock copy_lock(copy_mutex_);
  copy_.erase(std::string(key));
  return {};
}

common::result<std::vector<std::pair<std::string, std::string>>> etcd_kv_store::scan(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::shared_lock lock(copy_mutex_);
  for (auto it = copy_.lower_bound(prefix); it != copy_.end() && it->first.rfind(prefix, 0) == 0;
       ++it)
    out.emplace_back(it->first, it->second.value);
  return out;
}

}  // namespace dockmesh::bridge
