#include "ui-bridge/kv_store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <stdexcept>

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

namespace {

common::error from_status(const rocksdb::Status& s) {
  return make_error(errc::internal, "storage: " + s.ToString());
}

rocksdb::WriteOptions write_options(durability d) {
  rocksdb::WriteOptions w;
  w.sync = d == durability::sync;
  return w;
}

}  // namespace

kv_store::kv_store(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.max_open_files = 64;
  options.keep_log_file_num = 3;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
      throw std::runtime_error("database " + path + " is in use (is a bridge running on it?)");
    throw std::runtime_error("cannot open database " + path + ": " + s.ToString());
  }
  db_.reset(raw);
}

kv_store::~kv_store() = default;

common::result<std::optional<std::string>> kv_store::get(std::string_view key) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_status(s);
  return std::optional<std::string>(std::move(value));
}

common::result<void> kv_store::put(std::string_view key, std::string_view value, durability d) {
  auto s = db_->Put(write_options(d), rocksdb::Slice(key.data(), key.size()),
                    rocksdb::Slice(value.data(), value.size()));
  if (!s.ok()) return from_status(s);
  return {};
}

common::result<void> kv_store::remove(std::string_view key, durability d) {
  auto s = db_->Delete(write_options(d), rocksdb::Slice(key.data(), key.size()));
  if (!s.ok()) return from_status(s);
  return {};
}

common::result<std::vector<std::pair<std::string, std::string>>> kv_store::scan(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  rocksdb::Slice p(prefix.data(), prefix.size());
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next())
    out.emplace_back(it->key().ToString(), it->value().ToString());
  if (!it->status().ok()) return from_status(it->status());
  return out;
}

common::result<std::optional<nlohmann::json>> kv_store::get_json(std::string_view key) const {
  auto raw = get(key);
  if (!raw) return raw.err();
  if (!raw->has_value()) return std::optional<nlohmann::json>();
  auto j = nlohmann::json::parse(**raw, nullptr, false);
  if (j.is_discarded())
    return make_error(errc::internal, "storage: corrupt value at " + std::string(key));
  return std::optional<nlohmann::json>(std::move(j));
}

common::result<void> kv_store::put_json(std::string_view key, const nlohmann::json& value,
                                        durability d) {
  return put(key, value.dump(), d);
}

}  // namespace dockmesh::bridge
