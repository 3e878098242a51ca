#include "ui-bridge/password.hpp"

#include <sodium.h>

#include <mutex>

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

common::result<std::string> hash_password(std::string_view password, hash_strength strength) {
  if (auto ok = check_password_policy(password); !ok) return ok.err();
  bool minimal = strength == hash_strength::minimal;
  unsigned long long ops =
      minimal ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  std::size_t mem = minimal ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return make_error(errc::internal, "password hashing ran out of memory");
  return std::string(out);
}

bool verify_password(std::string_view encoded_hash, std::string_view password) {
  // crypto_pwhash_str_verify wants a NUL-terminated string of bounded size.
  if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string h(encoded_hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

void burn_password_check(std::string_view password) {
  static std::once_flag once;
  static std::string dummy;
  std::call_once(once, [] {
    auto h = hash_password(generate_password());
    dummy = h ? *h : std::string();
  });
  (void)verify_password(dummy, password);
}

std::string generate_password() {
  static constexpr char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  constexpr std::uint32_t n = sizeof alphabet - 1;
  std::string out;
  for (int i = 0; i < 20; ++i) out.push_back(alphabet[randombytes_uniform(n)]);
  return out;
}

common::result<void> check_password_policy(std::string_view password) {
  if (password.size() < 8) return make_error(errc::invalid_argument, "password shorter than 8");
  if (password.size() > 1024) return make_error(errc::invalid_argument, "password too long");
  return {};
}

}  // namespace dockmesh::bridge
