#include "common/storage/rocks_db.hpp"

#include <stdexcept>

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

rocks_db::rocks_db(const std::string& path, const rocks_options& o) {
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
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), slice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_status(s).err();
  return std::optional<std::string>(std::move(value));
}

result<void> rocks_db::put(std::string_view key, std::string_view value, bool sync) {
  return from_status(db_->Put(write_options(sync), slice(key), slice(value)));
}

result<void> rocks_db::erase(std::string_view key, bool sync) {
  return from_status(db_->Delete(write_options(sync), slice(key)));
}

result<void> rocks_db::write(rocksdb::WriteBatch& batch, bool sync) {
  return from_status(db_->Write(write_options(sync), &batch));
}

result<void> rocks_db::sync_wal() {
  return from_status(db_->SyncWAL());
}

result<void> rocks_db::scan(std::string_view prefix, const visitor& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p = slice(prefix);
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next())
    if (!fn(view(it->key()), view(it->value()))) break;
  return from_status(it->status());
}

result<void> rocks_db::scan_backwards(std::string_view prefix, const visitor& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p = slice(prefix);
  std::string past_end = std::string(prefix) + '\xff';
  for (it->SeekForPrev(past_end); it->Valid() && it->key().starts_with(p); it->Prev())
    if (!fn(view(it->key()), view(it->value()))) break;
  return from_status(it->status());
}

std::pair<std::string, std::string> rocks_db::key_range(std::string_view prefix) const {
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
