#include "ui-bridge/kv_store.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

namespace {

common::rocks_options options() {
  common::rocks_options o;
  o.max_open_files = 64;
  o.keep_log_file_num = 3;
  o.in_use_hint = "is a bridge running on it?";
  return o;
}

}  // namespace

rocks_kv_store::rocks_kv_store(const std::string& path) : db_(path, options()) {}

common::result<std::optional<std::string>> rocks_kv_store::get(std::string_view key) const {
  return db_.get(key);
}

common::result<void> rocks_kv_store::put(std::string_view key, std::string_view value,
                                         durability d) {
  return db_.put(key, value, d == durability::sync);
}

common::result<void> rocks_kv_store::remove(std::string_view key, durability d) {
  return db_.erase(key, d == durability::sync);
}

common::result<bool> rocks_kv_store::create(std::string_view key, std::string_view value) {
  auto existing = db_.get(key);
  if (!existing) return existing.err();
  if (existing->has_value()) return false;
  if (auto ok = db_.put(key, value, true); !ok) return ok.err();
  return true;
}

common::result<std::vector<std::pair<std::string, std::string>>> rocks_kv_store::scan(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  auto ok = db_.scan(prefix, [&out](std::string_view key, std::string_view value) {
    out.emplace_back(key, value);
    return true;
  });
  if (!ok) return ok.err();
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
