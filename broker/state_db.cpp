#include "broker/state_db.hpp"

#include <stdexcept>

#include <rocksdb/env.h>
#include <rocksdb/options.h>

#include "common/log.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;

common::result<void> from_status(const rocksdb::Status& s) {
  if (s.ok()) return {};
  return common::make_error(errc::unavailable, "rocksdb: " + s.ToString());
}

std::optional<nlohmann::json> unpack(std::string_view bytes) {
  auto j = nlohmann::json::from_msgpack(bytes.begin(), bytes.end(), true, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

}  // namespace

state_db::state_db(const std::string& dir, bool in_memory) {
  rocksdb::Options options;
  if (in_memory) {
    memory_env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    options.env = memory_env_.get();
  }
  options.create_if_missing = true;
  options.keep_log_file_num = 5;
  options.max_total_wal_size = 64 << 20;
  // The broker's records are small (a directory of hosts and containers, keys, placements): an
  // 8 MB memtable holds thousands of them. And no WAL preallocation: RocksDB would fallocate
  // ~1.1x the memtable for every WAL file, which on a tmpfs data directory is real memory.
  options.write_buffer_size = 8 << 20;
  options.allow_fallocate = false;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) throw std::runtime_error("cannot open data directory " + dir + ": " + s.ToString());
  db_.reset(raw);
}

state_db::~state_db() {
  if (db_) {
    (void)db_->SyncWAL();
    auto s = db_->Close();
    if (!s.ok()) {
      DM_LOG(warn) << "closing RocksDB: " << s.ToString();
    }
  }
}

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
  return from_status(db_->SyncWAL());
}

common::result<void> state_db::put(std::string_view key, const nlohmann::json& value, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = want_sync(sync);
  return from_status(db_->Put(wo, rocksdb::Slice(key.data(), key.size()), pack(value)));
}

common::result<void> state_db::erase(std::string_view key, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = want_sync(sync);
  return from_status(db_->Delete(wo, rocksdb::Slice(key.data(), key.size())));
}

common::result<void> state_db::write(rocksdb::WriteBatch& batch, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = want_sync(sync);
  return from_status(db_->Write(wo, &batch));
}

std::optional<nlohmann::json> state_db::get(std::string_view key) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (!s.ok()) return std::nullopt;
  return unpack(value);
}

void state_db::for_each(
    std::string_view prefix,
    const std::function<void(std::string_view, const nlohmann::json&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    auto v = unpack(std::string_view(it->value().data(), it->value().size()));
    std::string_view key(it->key().data(), it->key().size());
    if (!v) {
      DM_LOG(warn) << "skipping undecodable record " << key;
      continue;
    }
    fn(key, *v);
  }
}

void state_db::for_each_backwards(
    std::string_view prefix,
    const std::function<bool(std::string_view, const nlohmann::json&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p(prefix.data(), prefix.size());
  std::string past_end = std::string(prefix) + '\xff';
  for (it->SeekForPrev(past_end); it->Valid() && it->key().starts_with(p); it->Prev()) {
    auto v = unpack(std::string_view(it->value().data(), it->value().size()));
    if (v && !fn(std::string_view(it->key().data(), it->key().size()), *v)) return;
  }
}

std::pair<std::string, std::string> state_db::key_range(std::string_view prefix) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p(prefix.data(), prefix.size());
  std::pair<std::string, std::string> out;
  it->Seek(p);
  if (!it->Valid() || !it->key().starts_with(p)) return out;
  out.first = it->key().ToString();
  it->SeekForPrev(std::string(prefix) + '\xff');
  if (it->Valid() && it->key().starts_with(p)) out.second = it->key().ToString();
  return out;
}

}  // namespace dockmesh::broker
