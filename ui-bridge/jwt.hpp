// jwt: compact JSON Web Tokens signed with HS256 (HMAC-SHA256 from libsodium), the short-lived
// session tokens `POST /api/v1/login` hands out. Only HS256 is ever accepted: a token that names
// another algorithm (including "none") is refused before its signature is looked at. The key is
// 32 random bytes kept in the data dir (load_or_create_key). Immutable after construction, so
// sign/verify are safe from any thread; never blocks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "ui-bridge/kv_store.hpp"

namespace dockmesh::bridge {

class jwt_codec {
 public:
  static constexpr std::size_t key_bytes = 32;
  explicit jwt_codec(std::string key);  // throws std::invalid_argument on a wrong key size

  // header.payload.signature for `claims` (an object).
  std::string sign(const nlohmann::json& claims) const;
  // The claims if the signature is ours and `exp` (unix seconds, required) is after `now_s`.
  // errc::unauthorized with a message saying which check failed otherwise.
  common::result<nlohmann::json> verify(std::string_view token, std::int64_t now_s) const;

 private:
  std::string mac(std::string_view signing_input) const;
  std::string key_;
};

// Reads the key file, or creates it (mode 0600) with a fresh random key. Throws on I/O errors or a
// key file of the wrong size. Start-up only.
std::string load_or_create_key(const std::string& path);
// The same for bridges that share their accounts in etcd (--etcd): one key, `jwt-key` in `store`,
// made by the first bridge that starts, so a session from one bridge is valid on every other.
std::string load_or_create_key(kv_store& store);

}  // namespace dockmesh::bridge
