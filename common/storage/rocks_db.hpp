// rocks_db: the one RocksDB wrapper. Opens a database (on disk, or on a memory environment for
// unit tests and benches, or, for fuzz targets, no RocksDB at all but an ordered map with the same
// reads and writes: opening a database per fuzz input took ~13 ms, most of each run), turns
// rocksdb::Status into result<T> at this edge (errc::unavailable, "storage: ..."), and reads by key
// prefix forwards or backwards. Values are bytes: the broker's state_db stores msgpack, the
// bridge's kv_store JSON text. Built as its own library (dockmesh_storage) so that only the broker
// and the bridge load librocksdb. RocksDB is thread-safe: any thread; a sync write (and sync_wal)
// blocks on fsync, keep it off event loops.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.hpp"

namespace rocksdb {
class DB;
class Env;
class WriteBatch;
}  // namespace rocksdb

namespace dockmesh::common {

struct plain_map_store;  // rocks_db.cpp

struct rocks_options {
  bool in_memory = false;  // nothing reaches the disk
  bool plain_map = false;  // no RocksDB: a std::map (fuzz targets); path and tuning are ignored
  int keep_log_file_num = 5;
  int max_open_files = -1;               // -1: RocksDB's default (no limit)
  std::uint64_t max_total_wal_size = 0;  // 0: RocksDB's default
  std::size_t write_buffer_size = 0;     // 0: RocksDB's default (64 MB)
  bool allow_fallocate = true;           // off: no WAL preallocation (tmpfs data dirs)
  std::string in_use_hint;               // said when another process holds the lock
};

class rocks_db {
 public:
  // Opens or creates the database; throws std::runtime_error with a clear message.
  rocks_db(const std::string& path, const rocks_options& options);
  ~rocks_db();  // fsyncs the WAL and closes
  rocks_db(const rocks_db&) = delete;
  rocks_db& operator=(const rocks_db&) = delete;

  result<std::optional<std::string>> get(std::string_view key) const;
  result<void> put(std::string_view key, std::string_view value, bool sync);
  result<void> erase(std::string_view key, bool sync);
  result<void> write(rocksdb::WriteBatch& batch, bool sync);
  // Every write made before the call is durable after it. Any thread.
  result<void> sync_wal();

  // fn(key, value) for every key with this prefix, in key order (backwards: from the last),
  // while fn returns true.
  using visitor = std::function<bool(std::string_view key, std::string_view value)>;
  result<void> scan(std::string_view prefix, const visitor& fn) const;
  result<void> scan_backwards(std::string_view prefix, const visitor& fn) const;
  // The first and the last key with this prefix (empty strings when there is none).
  std::pair<std::string, std::string> key_range(std::string_view prefix) const;

 private:
  std::unique_ptr<rocksdb::Env> memory_env_;  // declared first: it outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<plain_map_store> map_;  // instead of db_ when rocks_options::plain_map
};

}  // namespace dockmesh::common
