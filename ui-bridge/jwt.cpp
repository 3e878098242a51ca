#include "ui-bridge/jwt.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "ui-bridge/base64url.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

namespace {

const std::string& encoded_header() {
  static const std::string h = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  return h;
}

common::error refuse(std::string why) {
  return make_error(errc::unauthorized, std::move(why));
}

}  // namespace

jwt_codec::jwt_codec(std::string key) : key_(std::move(key)) {
  if (key_.size() != key_bytes) throw std::invalid_argument("jwt key must be 32 bytes");
}

std::string jwt_codec::mac(std::string_view signing_input) const {
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key_.data()),
                              key_.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(signing_input.data()),
                                signing_input.size());
  crypto_auth_hmacsha256_final(&st, out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string jwt_codec::sign(const nlohmann::json& claims) const {
  std::string input = encoded_header() + "." + base64url_encode(claims.dump());
  return input + "." + base64url_encode(mac(input));
}

common::result<nlohmann::json> jwt_codec::verify(std::string_view token, std::int64_t now_s) const {
  if (token.size() > 8192) return refuse("token too long");
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return refuse("token is not a JWT");
  auto header_json = base64url_decode(token.substr(0, dot1));
  if (!header_json) return refuse("token header is not base64url");
  auto header = nlohmann::json::parse(*header_json, nullptr, false);
  // Check the type before comparing: json::value() throws when "alg" is, say, a number.
  auto alg = header.is_object() ? header.find("alg") : header.end();
  if (!header.is_object() || alg == header.end() || !alg->is_string() || *alg != "HS256")
    return refuse("token algorithm is not HS256");
  auto sig = base64url_decode(token.substr(dot2 + 1));
  std::string expected = mac(token.substr(0, dot2));
  if (!sig || sig->size() != expected.size() ||
      crypto_verify_32(reinterpret_cast<const unsigned char*>(sig->data()),
                       reinterpret_cast<const unsigned char*>(expected.data())) != 0)
    return refuse("token signature does not match");
  auto payload = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto claims = payload ? nlohmann::json::parse(*payload, nullptr, false) : nlohmann::json();
  if (!claims.is_object()) return refuse("token payload is not a JSON object");
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number_integer()) return refuse("token has no expiry");
  if (exp->get<std::int64_t>() <= now_s) return refuse("token expired");
  return claims;
}

std::string load_or_create_key(kv_store& store) {
  constexpr std::string_view key_name = "jwt-key";
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto found = store.get(key_name);
    if (!found) throw std::runtime_error("cannot read the signing key: " + found.err().message);
    if (found->has_value()) {
      if ((*found)->size() != jwt_codec::key_bytes)
        throw std::runtime_error("the shared signing key has the wrong size");
      return **found;
    }
    // The first bridge to start makes it; one that loses the race reads the winner's.
    std::string key = random_bytes(jwt_codec::key_bytes);
    auto made = store.create(key_name, key);
    if (!made) throw std::runtime_error("cannot store the signing key: " + made.err().message);
    if (*made) return key;
  }
  throw std::runtime_error("the shared signing key was made and removed while starting");
}

std::string load_or_create_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (key.size() != jwt_codec::key_bytes)
      throw std::runtime_error("signing key " + path + " has the wrong size");
    return key;
  }
  std::string key = random_bytes(jwt_codec::key_bytes);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) throw std::runtime_error("cannot create signing key " + path);
  bool ok = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write signing key " + path);
  return key;
}

}  // namespace dockmesh::bridge
