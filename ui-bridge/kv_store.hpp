// kv_store: the bridge's RocksDB database (`<data-dir>/db`), holding users (`user/<name>`), API
// tokens (`token/<id>`) and jobs (`job/<id>`) as JSON values, on common's one RocksDB wrapper
// (common/storage/rocks_db.hpp). RocksDB is thread-safe, so one kv_store is shared by every thread.
// Writes with durability::sync fsync the WAL: do those on the blocking pool, not in a Beast
// handler; durability::buffered survives a process crash (the WAL is in the OS) but not a power
// cut.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "common/storage/rocks_db.hpp"

namespace dockmesh::bridge {

enum class durability { buffered, sync };

class kv_store {
 public:
  // Opens or creates the database; throws std::runtime_error with a clear message (for example
  // when another process, such as a running bridge, holds it).
  explicit kv_store(const std::string& path);

  common::result<std::optional<std::string>> get(std::string_view key) const;
  common::result<void> put(std::string_view key, std::string_view value,
                           durability d = durability::buffered);
  common::result<void> remove(std::string_view key, durability d = durability::buffered);
  // All (key, value) pairs whose key starts with `prefix`, in key order.
  common::result<std::vector<std::pair<std::string, std::string>>> scan(
      std::string_view prefix) const;

  // JSON conveniences; a stored value that is not JSON reads as errc::internal.
  common::result<std::optional<nlohmann::json>> get_json(std::string_view key) const;
  common::result<void> put_json(std::string_view key, const nlohmann::json& value,
                                durability d = durability::buffered);

 private:
  common::rocks_db db_;
};

}  // namespace dockmesh::bridge
