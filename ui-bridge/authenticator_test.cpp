#include "ui-bridge/authenticator.hpp"

#include <doctest/doctest.h>

#include "common/envelope.hpp"
#include "ui-bridge/test_support.hpp"

using namespace dockmesh::bridge;
using dockmesh::common::errc;

namespace {

struct fixture {
  test::temp_dir dir;
  rocks_kv_store kv{dir.path + "/db"};
  user_store users{kv, hash_strength::minimal};
  token_store tokens{kv};
  jwt_codec jwt{std::string(32, 'k')};
  authenticator auth{jwt, users, tokens, std::chrono::seconds(900)};
};

}  // namespace

TEST_CASE("a session token authenticates its user with the user's current role") {
  fixture f;
  auto u = f.users.add("alice", "alice-password", user_role::user);
  REQUIRE(u.ok());
  auto s = f.auth.issue_session(*u, 1000);
  CHECK(s.expires_s == 1900);
  auto who = f.auth.authenticate_header("Bearer " + s.token, 1000 * 1000);
  REQUIRE(who.ok());
  CHECK(who->user == "alice");
  CHECK_FALSE(who->is_admin());
  auto late = f.auth.authenticate_token(s.token, 1900 * 1000);
  REQUIRE_FALSE(late.ok());
  CHECK(late.err().message == "token expired");
}

TEST_CASE("sessions end with a password change or the user's removal") {
  fixture f;
  auto u = f.users.add("bob", "bob-password", user_role::admin);
  auto s = f.auth.issue_session(*u, 1000);
  REQUIRE(f.users.set_password("bob", "new-password").ok());
  auto old = f.auth.authenticate_token(s.token, 1000 * 1000);
  REQUIRE_FALSE(old.ok());
  CHECK(old.err().message.find("password change") != std::string::npos);
  auto fresh = f.auth.issue_session(f.users.find("bob")->value(), 1000);
  CHECK(f.auth.authenticate_token(fresh.token, 1000 * 1000).ok());
  REQUIRE(f.users.remove("bob").ok());
  CHECK(f.auth.authenticate_token(fresh.token, 1000 * 1000).err().code == errc::unauthorized);
}

TEST_CASE("API tokens authenticate through the same header") {
  fixture f;
  REQUIRE(f.users.add("carol", "carol-password", user_role::user).ok());
  auto t = f.tokens.create("carol", "script", 0);
  auto who = f.auth.authenticate_header("Bearer " + t->second, dockmesh::common::now_ms());
  REQUIRE(who.ok());
  CHECK(who->user == "carol");
  CHECK(who->token_id == t->first.id);
  REQUIRE(f.users.remove("carol").ok());
  CHECK_FALSE(f.auth.authenticate_header("Bearer " + t->second, dockmesh::common::now_ms()).ok());
}

TEST_CASE("missing or malformed Authorization headers are 401 with a reason") {
  fixture f;
  for (auto h : {"", "Basic abc", "Bearer", "Bearer ", "bearer x", "Bearer a.b.c"}) {
    auto who = f.auth.authenticate_header(h, 0);
    REQUIRE_FALSE(who.ok());
    CHECK(who.err().code == errc::unauthorized);
    CHECK_FALSE(who.err().message.empty());
  }
}
