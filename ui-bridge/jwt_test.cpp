#include "ui-bridge/jwt.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <vector>

#include "ui-bridge/base64url.hpp"
#include "ui-bridge/test_support.hpp"

using namespace dockmesh::bridge;
using dockmesh::common::errc;

namespace {

const std::string key_a(32, 'a');
const std::string key_b(32, 'b');

nlohmann::json claims(std::int64_t exp) {
  return {{"sub", "alice"}, {"exp", exp}, {"gen", 1}};
}

// Replaces part `index` (0 header, 1 payload, 2 signature) of a JWT.
std::string replace_part(const std::string& token, int index, const std::string& part) {
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  std::string parts[3] = {token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1),
                          token.substr(d2 + 1)};
  parts[index] = part;
  return parts[0] + "." + parts[1] + "." + parts[2];
}

}  // namespace

TEST_CASE("base64url round-trips any bytes and refuses garbage") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n : {0, 1, 2, 3, 4, 255, 256}) {
    auto enc = base64url_encode(all.substr(0, n));
    CHECK(enc.find_first_of("+/=") == std::string::npos);
    REQUIRE(base64url_decode(enc).has_value());
    CHECK(*base64url_decode(enc) == all.substr(0, n));
  }
  CHECK_FALSE(base64url_decode("ab$d").has_value());
  CHECK_FALSE(base64url_decode("abcd=").has_value());
}

TEST_CASE("a signed token verifies and gives back its claims") {
  jwt_codec jwt(key_a);
  auto token = jwt.sign(claims(2000));
  auto got = jwt.verify(token, 1000);
  REQUIRE(got.ok());
  CHECK((*got)["sub"] == "alice");
  CHECK((*got)["exp"] == 2000);
}

TEST_CASE("an expired token is refused, at and after its expiry") {
  jwt_codec jwt(key_a);
  auto token = jwt.sign(claims(2000));
  CHECK(jwt.verify(token, 1999).ok());
  for (std::int64_t now : {2000, 2001, 99999}) {
    auto got = jwt.verify(token, now);
    REQUIRE_FALSE(got.ok());
    CHECK(got.err().code == errc::unauthorized);
    CHECK(got.err().message == "token expired");
  }
}

TEST_CASE("a token without an integer expiry is refused") {
  jwt_codec jwt(key_a);
  CHECK_FALSE(jwt.verify(jwt.sign({{"sub", "alice"}}), 0).ok());
  CHECK_FALSE(jwt.verify(jwt.sign({{"sub", "alice"}, {"exp", "never"}}), 0).ok());
}

TEST_CASE("tampering with any part of a token breaks it") {
  jwt_codec jwt(key_a);
  auto token = jwt.sign(claims(2000));
  SUBCASE("payload changed to another user") {
    auto forged = replace_part(token, 1, base64url_encode(R"({"sub":"admin","exp":2000,"gen":1})"));
    auto got = jwt.verify(forged, 1000);
    REQUIRE_FALSE(got.ok());
    CHECK(got.err().message == "token signature does not match");
  }
  SUBCASE("expiry pushed back") {
    auto forged = replace_part(token, 1, base64url_encode(claims(999999).dump()));
    CHECK_FALSE(jwt.verify(forged, 1000).ok());
  }
  SUBCASE("one signature character flipped") {
    std::string forged = token;
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    CHECK_FALSE(jwt.verify(forged, 1000).ok());
  }
  SUBCASE("signature removed, alg none") {
    auto none = replace_part(token, 0, base64url_encode(R"({"alg":"none","typ":"JWT"})"));
    none = replace_part(none, 2, "");
    auto got = jwt.verify(none, 1000);
    REQUIRE_FALSE(got.ok());
    CHECK(got.err().message == "token algorithm is not HS256");
  }
  SUBCASE("signed with another key") {
    jwt_codec other(key_b);
    CHECK_FALSE(jwt.verify(other.sign(claims(2000)), 1000).ok());
  }
}

TEST_CASE("malformed tokens are refused without throwing") {
  jwt_codec jwt(key_a);
  for (std::string bad : std::vector<std::string>{"", "abc", "a.b", "a.b.c.d", "...", "!!.!!.!!",
                                                  std::string(9000, 'x')})
    CHECK_FALSE(jwt.verify(bad, 0).ok());
  auto not_json = base64url_encode("not json") + "." + base64url_encode("{}") + ".x";
  CHECK_FALSE(jwt.verify(not_json, 0).ok());
  // Header fields of the wrong type (found by the hostile-input fault test: "alg" as a number
  // used to throw out of verify and kill the bridge).
  for (std::string header :
       {R"({"alg":1})", R"({"alg":null})", R"({"alg":["HS256"]})", "[]", "5"}) {
    auto token = base64url_encode(header) + "." + base64url_encode(R"({"exp":1})") + ".x";
    CHECK_NOTHROW(CHECK_FALSE(jwt.verify(token, 0).ok()));
  }
}

TEST_CASE("the signing key is created once with mode 0600 and then reused") {
  test::temp_dir dir;
  auto path = dir.path + "/jwt.key";
  auto k1 = load_or_create_key(path);
  CHECK(k1.size() == 32);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(load_or_create_key(path) == k1);
  CHECK_THROWS(jwt_codec("short"));
}
