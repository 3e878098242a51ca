// authenticator: turns an `Authorization: Bearer ...` value into a principal (user + role). The
// bearer is either a session JWT (jwt.hpp) or an API token (token_store.hpp). The role always
// comes from the user's current record, not from the token, and a session is refused once the
// user is removed or changes password (the token's `gen` no longer matches), and a session of a
// removed user never passes for a re-created user of the same name (the token's `uid` differs).
// Thread-safe; one RocksDB read per call, no hashing, so it runs inside Beast handlers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "ui-bridge/jwt.hpp"
#include "ui-bridge/token_store.hpp"
#include "ui-bridge/user_store.hpp"

namespace dockmesh::bridge {

struct principal {
  std::string user;     // the name, for people and logs
  std::string user_id;  // the immutable id: ownership, jobs and events go by it
  user_role role = user_role::user;
  std::string token_id;  // the API token used, empty for a session
  bool is_admin() const { return role == user_role::admin; }
};

struct session_token {
  std::string token;
  std::int64_t expires_s = 0;
};

class authenticator {
 public:
  authenticator(const jwt_codec& jwt, const user_store& users, const token_store& tokens,
                std::chrono::seconds session_ttl);

  session_token issue_session(const user_record& u, std::int64_t now_s) const;
  // A bare bearer token (session JWT or API token).
  common::result<principal> authenticate_token(std::string_view token, std::int64_t now_ms) const;
  // The value of an Authorization header ("Bearer <token>").
  common::result<principal> authenticate_header(std::string_view authorization,
                                                std::int64_t now_ms) const;

 private:
  common::result<principal> from_session(std::string_view token, std::int64_t now_ms) const;

  const jwt_codec& jwt_;
  const user_store& users_;
  const token_store& tokens_;
  std::chrono::seconds session_ttl_;
};

}  // namespace dockmesh::bridge
