// etcd_kv_store: the bridge's users, API tokens and JWT signing key kept in etcd (`--etcd`), so
// that several bridges behind a load balancer serve the same users: a user added, a password
// changed or a token revoked through one bridge holds on every bridge as soon as its watch
// delivers the change, usually within milliseconds (docs/ha.md).
// Every record lives under one prefix (`dockmesh/bridge/`). The bridge reads from a copy of the
// prefix held in memory: a snapshot at start, then etcd's watch, so a login or a token check
// never waits for etcd. Writes go to etcd and return once etcd has committed them (and the copy
// has them: read your writes). While etcd is unreachable, reads answer from the copy as last
// known and writes fail with errc::unavailable, naming etcd.
// Thread-safe. Owns one thread (the watch). Writes block for up to etcd's timeout per endpoint:
// callers run them on the blocking pool, as for RocksDB's synced writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/storage/etcd_client.hpp"
#include "ui-bridge/kv_store.hpp"

namespace dockmesh::bridge {

class etcd_kv_store final : public kv_store {
 public:
  static constexpr std::string_view default_prefix = "dockmesh/bridge/";

  // Reads every record under `prefix`; throws std::runtime_error naming the endpoints when etcd
  // does not answer (a bridge does not start on users it cannot read). Then follows changes.
  explicit etcd_kv_store(std::vector<std::string> endpoints,
                         std::string prefix = std::string(default_prefix));
  ~etcd_kv_store() override;
  etcd_kv_store(const etcd_kv_store&) = delete;
  etcd_kv_store& operator=(const etcd_kv_store&) = delete;

  common::result<std::optional<std::string>> get(std::string_view key) const override;
  // Every write is committed by etcd's quorum before it returns (durability does not matter).
  common::result<void> put(std::string_view key, std::string_view value,
                           durability d = durability::buffered) override;
  common::result<bool> create(std::string_view key, std::string_view value) override;
  common::result<void> remove(std::string_view key, durability d = durability::buffered) override;
  common::result<std::vector<std::pair<std::string, std::string>>> scan(
      std::string_view prefix) const override;

 private:
  struct record {
    std::string value;
    std::int64_t mod_revision = 0;
  };
  void load(const common::etcd_range& snapshot);  // replaces the copy
  void apply(const common::etcd_event& e);
  void note(std::string_view key, std::string value, std::int64_t mod_revision);  // own write
  common::error unavailable(std::string_view what, const common::error& e) const;
  void follow();  // the watch thread

  std::string prefix_;
  std::vector<std::string> endpoints_;
  mutable std::mutex writer_mutex_;  // one libcurl handle: one write at a time
  common::etcd_client writer_;
  mutable std::shared_mutex copy_mutex_;
  std::map<std::string, record, std::less<>> copy_;  // keys without the prefix
  std::int64_t next_revision_ = 0;                   // the watch resumes here
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace dockmesh::bridge
