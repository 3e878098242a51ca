// kv_store: where the bridge keeps its records, as JSON values under string keys: users
// (`user/<name>`), API tokens (`token/<id>`) and jobs (`job/<id>`). An interface with two
// implementations:
// - rocks_kv_store: the bridge's own RocksDB database (`<data-dir>/db`), on common's one RocksDB
//   wrapper (common/storage/rocks_db.hpp). Always used for jobs, and for users and tokens when
//   the bridge runs alone.
// - etcd_kv_store (ui-bridge/etcd_kv_store.hpp): users, tokens and the JWT signing key in etcd
//   (`--etcd`), so that several bridges behind a load balancer serve the same users.
// Both are thread-safe: one store is shared by every thread. Writes with durability::sync are
// durable when they return (an fsync of the WAL, or etcd's quorum): do those on the blocking pool,
// not in a Beast handler; durability::buffered survives a process crash but not a power cut.
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
  virtual ~kv_store() = default;

  virtual common::result<std::optional<std::string>> get(std::string_view key) const = 0;
  virtual common::result<void> put(std::string_view key, std::string_view value,
                                   durability d = durability::buffered) = 0;
  // Writes `key` only if no record has it: false (and nothing written) if one does. Atomic across
  // every bridge sharing the store (a user name taken at the same moment on two bridges).
  virtual common::result<bool> create(std::string_view key, std::string_view value) = 0;
  virtual common::result<void> remove(std::string_view key,
                                      durability d = durability::buffered) = 0;
  // All (key, value) pairs whose key starts with `prefix`, in key order.
  virtual common::result<std::vector<std::pair<std::string, std::string>>> scan(
      std::string_view prefix) const = 0;

  // JSON conveniences; a stored value that is not JSON reads as errc::internal.
  common::result<std::optional<nlohmann::json>> get_json(std::string_view key) const;
  common::result<void> put_json(std::string_view key, const nlohmann::json& value,
                                durability d = durability::buffered);
};

class rocks_kv_store final : public kv_store {
 public:
  // Opens or creates the database; throws std::runtime_error with a clear message (for example
  // when another process, such as a running bridge, holds it).
  explicit rocks_kv_store(const std::string& path);

  common::result<std::optional<std::string>> get(std::string_view key) const override;
  common::result<void> put(std::string_view key, std::string_view value,
                           durability d = durability::buffered) override;
  // One process holds the database; callers that create (user_store) serialise their writes.
  common::result<bool> create(std::string_view key, std::string_view value) override;
  common::result<void> remove(std::string_view key, durability d = durability::buffered) override;
  common::result<std::vector<std::pair<std::string, std::string>>> scan(
      std::string_view prefix) const override;

 private:
  common::rocks_db db_;
};

}  // namespace dockmesh::bridge
