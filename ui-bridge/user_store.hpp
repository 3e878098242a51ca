// user_store: the bridge's users in RocksDB (`user/<name>` -> {name, id, role, hash, generation,
// created}). `id` is the user's immutable id (common/ownership: "u" + 128 random bits), issued at
// add and never re-used: containers and volumes are owned by it, so a user removed and re-created
// under the same name owns nothing of the old one. A record stored before ids existed gets one
// derived from its name and creation time (stable across restarts, different for a re-created
// user). Passwords are Argon2id hashes (password.hpp). `generation` goes up on every password
// change, and session tokens carry the generation they were issued under, so changing a password
// logs out every old session. Thread-safe: reads go straight to RocksDB, writes are serialised by
// a mutex so that "add if absent" is atomic. add/set_password/check_login hash passwords, which is
// slow on purpose: call them from the blocking pool, never from a Beast handler.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ownership.hpp"
#include "common/result.hpp"
#include "ui-bridge/kv_store.hpp"
#include "ui-bridge/password.hpp"

namespace dockmesh::bridge {

using user_role = common::role;
using common::to_string;
inline std::optional<user_role> parse_user_role(std::string_view s) {
  return common::parse_role(s);
}

struct user_record {
  std::string name;
  std::string id;  // immutable user id
  user_role role = user_role::user;
  std::string password_hash;
  std::int64_t generation = 1;
  std::int64_t created_ms = 0;
};
nlohmann::json public_view(const user_record& u);  // without the hash

// 1..32 characters of [a-z0-9._-], starting with a letter or digit. User names end up in Docker
// labels and in bus envelopes, so they stay this plain.
bool valid_user_name(std::string_view name);

class user_store {
 public:
  explicit user_store(kv_store& kv, hash_strength strength = hash_strength::interactive);

  common::result<user_record> add(const std::string& name, std::string_view password,
                                  user_role role);  // conflict if present
  common::result<user_record> set_password(const std::string& name, std::string_view password);
  common::result<void> remove(const std::string& name);  // not_found if absent
  common::result<std::optional<user_record>> find(const std::string& name) const;
  common::result<std::vector<user_record>> list() const;
  // The user if the password matches; errc::unauthorized (same message, same cost) otherwise.
  common::result<user_record> check_login(const std::string& name, std::string_view password) const;
  // First start: if there are no users at all, creates `admin` with a generated password and
  // returns that password (the only time it is ever visible).
  common::result<std::optional<std::string>> ensure_first_admin();

 private:
  common::result<void> save(const user_record& u);

  kv_store& kv_;
  hash_strength strength_;
  std::mutex write_mutex_;
};

}  // namespace dockmesh::bridge
