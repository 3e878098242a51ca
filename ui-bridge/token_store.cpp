#include "ui-bridge/token_store.hpp"
#include "ui-bridge/json_fields.hpp"

#include <sodium.h>

#include "common/envelope.hpp"
#include "ui-bridge/base64url.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

namespace {

constexpr std::size_t id_hex = 16;      // 8 random bytes
constexpr std::size_t secret_hex = 64;  // 32 random bytes
constexpr std::string_view prefix = "dmt_";

std::string sha256_hex(std::string_view s) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, sizeof digest * 2);
}

bool all_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

nlohmann::json to_stored(const api_token& t) {
  return {{"id", t.id},
          {"user", t.user},
          {"name", t.name},
          {"created", t.created_ms},
          {"expires", t.expires_ms},
          {"sha256", t.secret_sha256}};
}

api_token from_stored(const nlohmann::json& j) {
  return api_token{text_of(j, "id"),         text_of(j, "user"),       text_of(j, "name"),
                   integer_of(j, "created"), integer_of(j, "expires"), text_of(j, "sha256")};
}

common::error refuse() {
  return make_error(errc::unauthorized, "unknown or revoked API token");
}

}  // namespace

nlohmann::json public_view(const api_token& t) {
  nlohmann::json j = {{"id", t.id}, {"user", t.user}, {"name", t.name}, {"created", t.created_ms}};
  j["expires"] = t.expires_ms ? nlohmann::json(t.expires_ms) : nlohmann::json(nullptr);
  return j;
}

bool looks_like_api_token(std::string_view s) {
  return s.size() == prefix.size() + id_hex + 1 + secret_hex &&
         s.substr(0, prefix.size()) == prefix;
}

token_store::token_store(kv_store& kv) : kv_(kv) {}

common::result<std::pair<api_token, std::string>> token_store::create(const std::string& user,
                                                                      const std::string& name,
                                                                      std::int64_t ttl_s) {
  if (ttl_s < 0) return make_error(errc::invalid_argument, "ttl_seconds must not be negative");
  if (name.size() > 128) return make_error(errc::invalid_argument, "token name too long");
  api_token t;
  t.id = random_hex(id_hex / 2);
  std::string secret = random_hex(secret_hex / 2);
  t.user = user;
  t.name = name;
  t.created_ms = common::now_ms();
  t.expires_ms = ttl_s ? t.created_ms + ttl_s * 1000 : 0;
  t.secret_sha256 = sha256_hex(secret);
  if (auto ok = kv_.put_json("token/" + t.id, to_stored(t), durability::sync); !ok) return ok.err();
  return std::make_pair(t, std::string(prefix) + t.id + "_" + secret);
}

common::result<api_token> token_store::check(std::string_view token, std::int64_t now_ms) const {
  if (!looks_like_api_token(token)) return refuse();
  std::string id(token.substr(prefix.size(), id_hex));
  std::string_view secret = token.substr(prefix.size() + id_hex + 1);
  if (token[prefix.size() + id_hex] != '_' || !all_hex(id) || !all_hex(secret)) return refuse();
  auto t = find(id);
  if (!t) return t.err();
  if (!t->has_value()) return refuse();
  std::string digest = sha256_hex(secret);
  const std::string& stored = (*t)->secret_sha256;
  if (stored.size() != digest.size() || sodium_memcmp(stored.data(), digest.data(), digest.size()))
    return refuse();
  if ((*t)->expires_ms && (*t)->expires_ms <= now_ms)
    return make_error(errc::unauthorized, "API token expired");
  return **t;
}

common::result<std::optional<api_token>> token_store::find(const std::string& id) const {
  if (id.size() != id_hex || !all_hex(id)) return std::optional<api_token>();
  auto j = kv_.get_json("token/" + id);
  if (!j) return j.err();
  if (!j->has_value()) return std::optional<api_token>();
  return std::optional<api_token>(from_stored(**j));
}

common::result<void> token_store::revoke(const std::string& id) {
  auto t = find(id);
  if (!t) return t.err();
  if (!t->has_value()) return make_error(errc::not_found, "no API token " + id);
  return kv_.remove("token/" + id, durability::sync);
}

common::result<std::vector<api_token>> token_store::list(
    const std::optional<std::string>& user) const {
  auto rows = kv_.scan("token/");
  if (!rows) return rows.err();
  std::vector<api_token> out;
  for (auto& [key, value] : *rows) {
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (!j.is_object()) continue;
    auto t = from_stored(j);
    if (!user || t.user == *user) out.push_back(std::move(t));
  }
  return out;
}

common::result<void> token_store::revoke_all_of(const std::string& user) {
  auto tokens = list(user);
  if (!tokens) return tokens.err();
  for (auto& t : *tokens)
    if (auto ok = kv_.remove("token/" + t.id, durability::sync); !ok) return ok;
  return {};
}

}  // namespace dockmesh::bridge
