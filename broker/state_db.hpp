// state_db: the broker's RocksDB database in --data-dir. One keyspace, split by key prefix:
//   k/<public key>  accepted/pending/rejected/revoked keys (key_store)
//   t/<token hash>  join tokens (join_tokens)
//   h/<fqdn>        host records (host_directory)
//   i/<fqdn>        each host's last applied inventory (container_index)
//   a/<sequence>    the audit log, a bounded ring (audit_log)
//   p/<request id>  recent placements (create_dispatcher)
//   r/<kind>/<id>   projects, services, host policies, quotas, teams (rocks_service_store)
// Values are msgpack (nlohmann::json::to_msgpack). Owned by the hub thread; writes without sync
// only go to the WAL via write(2), so they survive kill -9 of the broker (not a power cut) and
// cost microseconds. Key and token changes ask for sync writes. A sync write took 2 ms (p50) to
// 160 ms (p99) here, so in the running broker sync is *deferred*: the write goes to the WAL at
// once, is counted, and the hub has wal_syncer fsync the WAL on its own thread before it
// acknowledges the change (sync_wal is the one call made from that other thread; RocksDB allows
// it concurrently with writes). The RocksDB calls are common's one wrapper
// (common/storage/rocks_db.hpp); this class adds msgpack values and deferred sync.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "common/storage/rocks_db.hpp"

namespace dockmesh::broker {

class state_db {
 public:
  // in_memory: RocksDB on a memory environment, nothing reaches the disk (unit tests, benches);
  // plain_map: no RocksDB at all, an ordered map (fuzz targets). Throws std::runtime_error.
  explicit state_db(const std::string& dir, bool in_memory = false, bool plain_map = false);

  common::result<void> put(std::string_view key, const nlohmann::json& value, bool sync);
  common::result<void> erase(std::string_view key, bool sync);
  common::result<void> write(rocksdb::WriteBatch& batch, bool sync);
  std::optional<nlohmann::json> get(std::string_view key) const;

  // Deferred mode: sync=true writes are WAL writes counted in unsynced() until take_unsynced().
  void set_deferred_sync(bool on) { deferred_sync_ = on; }
  std::uint64_t take_unsynced() { return std::exchange(unsynced_, 0); }
  // fsyncs the WAL: every write made before the call is durable after it. Any thread.
  common::result<void> sync_wal();
  // Calls fn(key, value) for every key with this prefix whose value decodes.
  void for_each(std::string_view prefix,
                const std::function<void(std::string_view, const nlohmann::json&)>& fn) const;

  // From the last key with this prefix backwards, while fn(key, value) returns true.
  void for_each_backwards(
      std::string_view prefix,
      const std::function<bool(std::string_view, const nlohmann::json&)>& fn) const;
  // The first and the last key with this prefix (empty strings when there is none).
  std::pair<std::string, std::string> key_range(std::string_view prefix) const;

  static std::string pack(const nlohmann::json& value);

 private:
  bool want_sync(bool sync);

  common::rocks_db db_;
  bool deferred_sync_ = false;
  std::uint64_t unsynced_ = 0;
};

}  // namespace dockmesh::broker
