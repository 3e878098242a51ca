#include "common/storage/rocks_db.hpp"

#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "common/log.hpp"

namespace dockmesh::common {
namespace {

result<void> from_status(const rocksdb::Status& s) {
  if (s.ok()) return {};
  return make_error(errc::unavailable, "storage: " + s.ToString());
}

rocksdb::Slice slice(std::string_view s) {
  return {s.data(), s.size()};
}

std::string_view view(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

rocksdb::WriteOptions write_options(bool sync) {
  rocksdb::WriteOptions w;
  w.sync = sync;
  return w;
}

}  // namespace

// The plain-map medium: the same reads and writes as RocksDB, on an ordered map under a mutex
// (rocks_db is any-thread). A scan copies the matching entries first, so a visitor may write to
// the store as it could through a RocksDB iterator's implicit snapshot.
struct plain_map_store {
  using entries = std::vector<std::pair<std::string, std::string>>;

  std::optional<std::string> get(std::string_view key) const {
    std::lock_guard lock(mutex);
    auto it = map.find(key);
    if (it == map.end()) return std::nullopt;
    return it->second;
  }
  void put(std::string_view key, std::string_view value) {
    std::lock_guard lock(mutex);
    map.insert_or_assign(std::string(key), std::string(value));
  }
  void erase(std::string_view key) {
    std::lock_guard lock(mutex);
    auto it = map.find(key);
    if (it != map.end()) map.erase(it);
  }
  entries with_prefix(std::string_view prefix) const {
    std::lock_guard lock(mutex);
    entries out;
    for (auto it = map.lower_bound(prefix); it != map.end() && it->first.starts_with(prefix); ++it)
      out.emplace_back(it->first, it->second);
    return out;
  }

  mutable std::mutex mutex;
  std::map<std::string, std::string, std::less<>> map;
};

namespace {

// Applies a WriteBatch's puts and deletes to the plain map, in order.
class map_batch_applier : public rocksdb::WriteBatch::Handler {
 public:
  explicit map_batch_applier(plain_map_store& store) : store_(store) {}
  void Put(const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    store_.put(view(key), view(value));
  }
  void Delete(const rocksdb::Slice& key) override { store_.erase(view(key)); }

 private:
  plain_map_store& store_;
};

}  // namespace

rocks_db::rocks_db(const std::string& path, const rocks_options& o) {
  if (o.plain_map) {
    map_ = std::make_unique<plain_map_store>();
    return;
  }
  rocksdb::Options options;
  if (o.in_memory) {
    memory_env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    options.env = memory_env_.get();
  }
  options.create_if_missing = true;
  options.keep_log_file_num = o.keep_log_file_num;
  options.max_open_files = o.max_open_files;
  if (o.max_total_wal_size) options.max_total_wal_size = o.max_total_wal_size;
  if (o.write_buffer_size) options.write_buffer_size = o.write_buffer_size;
  options.allow_fallocate = o.allow_fallocate;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) {
    bool locked = s.IsIOError() && s.ToString().find("lock") != std::string::npos;
    if (locked && !o.in_use_hint.empty())
      throw std::runtime_error("database " + path + " is in use (" + o.in_use_hint + ")");
    throw std::runtime_error("cannot open database " + path + ": " + s.ToString());
  }
  db_.reset(raw);
}

rocks_db::~rocks_db() {
  if (!db_) return;
  (void)db_->SyncWAL();
  auto s = db_->Close();
  if (!s.ok()) {
    DM_LOG(warn) << "closing RocksDB: " << s.ToString();
  }
}

result<std::optional<std::string>> rocks_db::get(std::string_view key) const {
  if (map_) return map_->get(key);
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), slice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_status(s).err();
  return std::optional<std::string>(std::move(value));
}

result<void> rocks_db::put(std::string_view key, std::string_view value, bool sync) {
  if (map_) {
    map_->put(key, value);
    return {};
  }
  return from_status(db_->Put(write_options(sync), slice(key), slice(value)));
}

result<void> rocks_db::erase(std::string_view key, bool sync) {
  if (map_) {
    map_->erase(key);
    return {};
  }
  return from_status(db_->Delete(write_options(sync), slice(key)));
}

result<void> rocks_db::write(rocksdb::WriteBatch& batch, bool sync) {
  if (map_) {
    map_batch_applier apply(*map_);
    return from_status(batch.Iterate(&apply));
  }
  return from_status(db_->Write(write_options(sync), &batch));
}

result<void> rocks_db::sync_wal() {
  if (map_) return {};
  return from_status(db_->SyncWAL());
}

result<void> rocks_db::scan(std::string_view prefix, const visitor& fn) const {
  if (map_) {
    for (const auto& [key, value] : map_->with_prefix(prefix))
      if (!fn(key, value)) break;
    return {};
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p = slice(prefix);
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next())
    if (!fn(view(it->key()), view(it->value()))) break;
  return from_status(it->status());
}

result<void> rocks_db::scan_backwards(std::string_view prefix, const visitor& fn) const {
  if (map_) {
    auto entries = map_->with_prefix(prefix);
    for (auto it = entries.rbegin(); it != entries.rend(); ++it)
      if (!fn(it->first, it->second)) break;
    return {};
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p = slice(prefix);
  std::string past_end = std::string(prefix) + '\xff';
  for (it->SeekForPrev(past_end); it->Valid() && it->key().starts_with(p); it->Prev())
    if (!fn(view(it->key()), view(it->value()))) break;
  return from_status(it->status());
}

std::pair<std::string, std::string> rocks_db::key_range(std::string_view prefix) const {
  if (map_) {
    auto entries = map_->with_prefix(prefix);
    if (entries.empty()) return {};
    return {entries.front().first, entries.back().first};
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p = slice(prefix);
  std::pair<std::string, std::string> out;
  it->Seek(p);
  if (!it->Valid() || !it->key().starts_with(p)) return out;
  out.first = it->key().ToString();
  it->SeekForPrev(std::string(prefix) + '\xff');
  if (it->Valid() && it->key().starts_with(p)) out.second = it->key().ToString();
  return out;
}

}  // namespace dockmesh::common
