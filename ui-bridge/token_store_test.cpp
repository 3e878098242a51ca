#include "ui-bridge/token_store.hpp"

#include <doctest/doctest.h>

#include "common/envelope.hpp"
#include "ui-bridge/test_support.hpp"

using namespace dockmesh::bridge;
using dockmesh::common::errc;

TEST_CASE("an API token checks until revoked, and its secret is not stored") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  token_store tokens(kv);
  auto made = tokens.create("alice", "ci", 0);
  REQUIRE(made.ok());
  const auto& [record, secret] = *made;
  CHECK(looks_like_api_token(secret));
  auto ok = tokens.check(secret, dockmesh::common::now_ms());
  REQUIRE(ok.ok());
  CHECK(ok->user == "alice");
  auto stored = kv.get("token/" + record.id);
  REQUIRE((stored.ok() && stored->has_value()));
  CHECK((*stored)->find(secret.substr(secret.rfind('_') + 1)) == std::string::npos);
  REQUIRE(tokens.revoke(record.id).ok());
  CHECK(tokens.check(secret, dockmesh::common::now_ms()).err().code == errc::unauthorized);
  CHECK(tokens.revoke(record.id).err().code == errc::not_found);
}

TEST_CASE("a tampered or unknown API token is refused") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  token_store tokens(kv);
  auto secret = tokens.create("alice", "", 0)->second;
  std::string flipped = secret;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  CHECK_FALSE(tokens.check(flipped, 0).ok());
  std::string other_id = secret;
  other_id[5] = other_id[5] == '0' ? '1' : '0';
  CHECK_FALSE(tokens.check(other_id, 0).ok());
  for (auto bad : {"", "dmt_", "dmt_zz", "Bearer x", "dmt_../../etc/passwd"})
    CHECK_FALSE(tokens.check(bad, 0).ok());
}

TEST_CASE("an API token with a ttl expires") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  token_store tokens(kv);
  auto made = tokens.create("alice", "", 60);
  REQUIRE(made.ok());
  auto exp = made->first.expires_ms;
  CHECK(tokens.check(made->second, exp - 1).ok());
  CHECK(tokens.check(made->second, exp).err().message == "API token expired");
  CHECK(tokens.create("alice", "", -1).err().code == errc::invalid_argument);
}

TEST_CASE("tokens are listed per user and revoked together when a user goes") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  token_store tokens(kv);
  auto a1 = tokens.create("alice", "one", 0)->second;
  (void)tokens.create("alice", "two", 0);
  auto b1 = tokens.create("bob", "one", 0)->second;
  CHECK(tokens.list(std::string("alice"))->size() == 2);
  CHECK(tokens.list(std::nullopt)->size() == 3);
  REQUIRE(tokens.revoke_all_of("alice").ok());
  CHECK(tokens.list(std::string("alice"))->empty());
  CHECK_FALSE(tokens.check(a1, 0).ok());
  CHECK(tokens.check(b1, 0).ok());
}
