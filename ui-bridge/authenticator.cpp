#include "ui-bridge/authenticator.hpp"

#include "ui-bridge/base64url.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

authenticator::authenticator(const jwt_codec& jwt, const user_store& users,
                             const token_store& tokens, std::chrono::seconds session_ttl)
    : jwt_(jwt), users_(users), tokens_(tokens), session_ttl_(session_ttl) {}

session_token authenticator::issue_session(const user_record& u, std::int64_t now_s) const {
  std::int64_t exp = now_s + session_ttl_.count();
  nlohmann::json claims = {{"sub", u.name},       {"uid", u.id},  {"role", to_string(u.role)},
                           {"gen", u.generation}, {"iat", now_s}, {"exp", exp},
                           {"jti", random_hex(8)}};
  return session_token{jwt_.sign(claims), exp};
}

common::result<principal> authenticator::from_session(std::string_view token,
                                                      std::int64_t now_ms) const {
  auto claims = jwt_.verify(token, now_ms / 1000);
  if (!claims) return claims.err();
  auto sub = claims->find("sub");
  auto gen = claims->find("gen");
  if (sub == claims->end() || !sub->is_string() || gen == claims->end() ||
      !gen->is_number_integer())
    return make_error(errc::unauthorized, "token lacks its subject");
  auto u = users_.find(sub->get<std::string>());
  if (!u) return u.err();
  if (!u->has_value()) return make_error(errc::unauthorized, "token's user no longer exists");
  if ((*u)->generation != gen->get<std::int64_t>())
    return make_error(errc::unauthorized, "token was issued before a password change");
  auto uid = claims->find("uid");
  if (uid == claims->end() || !uid->is_string() || uid->get<std::string>() != (*u)->id)
    return make_error(errc::unauthorized, "token's user no longer exists");
  return principal{(*u)->name, (*u)->id, (*u)->role, {}};
}

common::result<principal> authenticator::authenticate_token(std::string_view token,
                                                            std::int64_t now_ms) const {
  if (token.empty()) return make_error(errc::unauthorized, "missing bearer token");
  if (!looks_like_api_token(token)) return from_session(token, now_ms);
  auto t = tokens_.check(token, now_ms);
  if (!t) return t.err();
  auto u = users_.find(t->user);
  if (!u) return u.err();
  if (!u->has_value()) return make_error(errc::unauthorized, "token's user no longer exists");
  return principal{(*u)->name, (*u)->id, (*u)->role, t->id};
}

common::result<principal> authenticator::authenticate_header(std::string_view authorization,
                                                             std::int64_t now_ms) const {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.empty())
    return make_error(errc::unauthorized, "missing Authorization: Bearer header");
  if (authorization.size() <= scheme.size() || authorization.substr(0, scheme.size()) != scheme)
    return make_error(errc::unauthorized, "Authorization header must be 'Bearer <token>'");
  auto token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return authenticate_token(token, now_ms);
}

}  // namespace dockmesh::bridge
