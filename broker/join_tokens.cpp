#include "broker/join_tokens.hpp"

#include <sodium.h>

#include <vector>

#include "common/log.hpp"

namespace dockmesh::broker {
namespace {

constexpr std::string_view token_prefix = "t/";

std::string to_hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    s.push_back(digits[p[i] >> 4]);
    s.push_back(digits[p[i] & 15]);
  }
  return s;
}

}  // namespace

join_tokens::join_tokens(state_db& db) : db_(db) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  db_.for_each(token_prefix, [&](std::string_view k, const nlohmann::json& v) {
    if (v.is_number_integer())
      expires_[std::string(k.substr(token_prefix.size()))] = v.get<std::int64_t>();
  });
}

std::string join_tokens::hash(std::string_view token) {
  unsigned char out[32];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return to_hex(out, sizeof out);
}

common::result<join_tokens::issued> join_tokens::create(std::int64_t ttl_seconds,
                                                        std::int64_t now_ms) {
  if (ttl_seconds < 1 || ttl_seconds > max_ttl_seconds)
    return common::make_error(common::errc::invalid_argument, "ttl_seconds must be between 1 and " +
                                                                  std::to_string(max_ttl_seconds));
  unsigned char raw[24];
  randombytes_buf(raw, sizeof raw);
  issued t{to_hex(raw, sizeof raw), now_ms + ttl_seconds * 1000};
  std::string h = hash(t.token);
  if (auto s = db_.put(std::string(token_prefix) + h, t.expires_ms, true); !s) return s.err();
  expires_[h] = t.expires_ms;
  if (publish_) publish_(h, ttl_seconds);
  return t;
}

bool join_tokens::consume(std::string_view token, std::int64_t now_ms) {
  if (token.empty() || token.size() > 256) return false;
  auto it = expires_.find(hash(token));
  if (it == expires_.end()) return false;
  bool valid = now_ms < it->second;
  auto erased = db_.erase(std::string(token_prefix) + it->first, true);
  if (!erased) {
    DM_LOG(warn) << "could not delete a spent join token: " << erased.err().message;
  }
  expires_.erase(it);
  return valid;
}

std::size_t join_tokens::purge_expired(std::int64_t now_ms) {
  std::vector<std::string> dead;
  for (const auto& [h, exp] : expires_)
    if (exp <= now_ms) dead.push_back(h);
  for (const auto& h : dead) {
    (void)db_.erase(std::string(token_prefix) + h, true);
    expires_.erase(h);
  }
  return dead.size();
}

}  // namespace dockmesh::broker
