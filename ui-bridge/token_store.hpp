// token_store: long-lived, revocable API tokens for scripts (`POST /api/v1/tokens`). A token reads
// `dmt_<id>_<secret>` (hex); RocksDB keeps `token/<id>` -> {id, user, name, created, expires,
// sha256(secret)}, never the secret, which is shown once at creation. Checking a token is one
// RocksDB read and a constant-time compare, cheap enough for a Beast handler; create/revoke fsync,
// so run them on the blocking pool. Thread-safe (RocksDB is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "ui-bridge/kv_store.hpp"

namespace dockmesh::bridge {

struct api_token {
  std::string id;
  std::string user;
  std::string name;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;  // 0 = never
  std::string secret_sha256;    // hex
};
nlohmann::json public_view(const api_token& t);  // without the hash

bool looks_like_api_token(std::string_view s);

class token_store {
 public:
  explicit token_store(kv_store& kv);

  // The record and the full token string (shown to the user once). ttl_s 0 = never expires.
  common::result<std::pair<api_token, std::string>> create(const std::string& user,
                                                           const std::string& name,
                                                           std::int64_t ttl_s);
  // The token's record if it exists, matches and has not expired; errc::unauthorized otherwise.
  common::result<api_token> check(std::string_view token, std::int64_t now_ms) const;
  common::result<std::optional<api_token>> find(const std::string& id) const;
  common::result<void> revoke(const std::string& id);
  // Every token, or only `user`'s.
  common::result<std::vector<api_token>> list(const std::optional<std::string>& user) const;
  common::result<void> revoke_all_of(const std::string& user);

 private:
  kv_store& kv_;
};

}  // namespace dockmesh::bridge
