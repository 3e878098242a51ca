#include "ui-bridge/password.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace dockmesh::bridge;

TEST_CASE("password hashes are Argon2id and verify only the right password") {
  auto h = hash_password("correct horse battery");
  REQUIRE(h.ok());
  CHECK(h->rfind("$argon2id$", 0) == 0);
  CHECK(verify_password(*h, "correct horse battery"));
  CHECK_FALSE(verify_password(*h, "correct horse batterz"));
  CHECK_FALSE(verify_password(*h, ""));
}

TEST_CASE("the same password hashes differently each time (salted)") {
  auto a = hash_password("same password", hash_strength::minimal);
  auto b = hash_password("same password", hash_strength::minimal);
  REQUIRE((a.ok() && b.ok()));
  CHECK(*a != *b);
  CHECK(verify_password(*a, "same password"));
  CHECK(verify_password(*b, "same password"));
}

TEST_CASE("verification refuses broken hashes instead of crashing") {
  CHECK_FALSE(verify_password("", "x"));
  CHECK_FALSE(verify_password("$argon2id$garbage", "x"));
  CHECK_FALSE(verify_password(std::string(1000, '$'), "x"));
}

TEST_CASE("password policy: 8 to 1024 bytes") {
  CHECK_FALSE(hash_password("short", hash_strength::minimal).ok());
  CHECK_FALSE(check_password_policy(std::string(1025, 'x')).ok());
  CHECK(check_password_policy("12345678").ok());
}

TEST_CASE("generated passwords are long, plain and different") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto p = generate_password();
    CHECK(p.size() == 20);
    CHECK(p.find_first_not_of("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") ==
          std::string::npos);
    seen.insert(p);
  }
  CHECK(seen.size() == 100);
}
