#include "broker/state_db.hpp"

#include "common/log.hpp"

namespace dockmesh::broker {
namespace {

common::rocks_options options(bool in_memory, bool plain_map) {
  common::rocks_options o;
  o.in_memory = in_memory;
  o.plain_map = plain_map;
  o.keep_log_file_num = 5;
  o.max_total_wal_size = 64 << 20;
  // The broker's records are small (a directory of hosts and containers, keys, placements): an
  // 8 MB memtable holds thousands of them. And no WAL preallocation: RocksDB would fallocate
  // ~1.1x the memtable for every WAL file, which on a tmpfs data directory is real memory.
  o.write_buffer_size = 8 << 20;
  o.allow_fallocate = false;
  return o;
}

std::optional<nlohmann::json> unpack(std::string_view bytes) {
  auto j = nlohmann::json::from_msgpack(bytes.begin(), bytes.end(), true, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

}  // namespace

state_db::state_db(const std::string& dir, bool in_memory, bool plain_map)
    : db_(dir, options(in_memory, plain_map)) {}

std::string state_db::pack(const nlohmann::json& value) {
  std::string out;
  nlohmann::json::to_msgpack(value, out);
  return out;
}

bool state_db::want_sync(bool sync) {
  if (!sync || !deferred_sync_) return sync;
  ++unsynced_;
  return false;
}

common::result<void> state_db::sync_wal() {
  return db_.sync_wal();
}

common::result<void> state_db::put(std::string_view key, const nlohmann::json& value, bool sync) {
  return db_.put(key, pack(value), want_sync(sync));
}

common::result<void> state_db::erase(std::string_view key, bool sync) {
  return db_.erase(key, want_sync(sync));
}

common::result<void> state_db::write(rocksdb::WriteBatch& batch, bool sync) {
  return db_.write(batch, want_sync(sync));
}

std::optional<nlohmann::json> state_db::get(std::string_view key) const {
  auto value = db_.get(key);
  if (!value || !value->has_value()) return std::nullopt;
  return unpack(**value);
}

void state_db::for_each(
    std::string_view prefix,
    const std::function<void(std::string_view, const nlohmann::json&)>& fn) const {
  (void)db_.scan(prefix, [&fn](std::string_view key, std::string_view bytes) {
    auto v = unpack(bytes);
    if (!v) {
      DM_LOG(warn) << "skipping undecodable record " << key;
      return true;
    }
    fn(key, *v);
    return true;
  });
}

void state_db::for_each_backwards(
    std::string_view prefix,
    const std::function<bool(std::string_view, const nlohmann::json&)>& fn) const {
  (void)db_.scan_backwards(prefix, [&fn](std::string_view key, std::string_view bytes) {
    auto v = unpack(bytes);
    return !v || fn(key, *v);
  });
}

std::pair<std::string, std::string> state_db::key_range(std::string_view prefix) const {
  return db_.key_range(prefix);
}

}  // namespace dockmesh::broker
