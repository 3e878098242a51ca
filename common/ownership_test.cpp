#include "common/ownership.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace dockmesh::common;

TEST_CASE("owners act by id; admins on anything; names, empty labels and strangers on nothing") {
  const std::string alice = "u0123456789abcdef0123456789abcdef";
  const std::string bob = "ufedcba9876543210fedcba9876543210";
  CHECK(is_user_id(alice));
  CHECK_FALSE(is_user_id("alice"));
  CHECK_FALSE(is_user_id("u0123456789ABCDEF0123456789abcdef"));
  CHECK(may_act({role::user, alice}, alice));
  CHECK_FALSE(may_act({role::user, bob}, alice));
  CHECK_FALSE(may_act({role::user, alice}, ""));
  CHECK_FALSE(may_act({role::user, ""}, ""));
  CHECK_FALSE(may_act({role::user, alice}, "alice"));  // a legacy name label: admin-only
  CHECK(may_act({role::admin, ""}, alice));
  CHECK(may_act({role::admin, ""}, ""));
}

TEST_CASE("roles parse strictly; anything but \"admin\" is a plain user") {
  CHECK(parse_role("admin") == role::admin);
  CHECK(parse_role("user") == role::user);
  CHECK_FALSE(parse_role("Admin"));
  CHECK(role_of_envelope("Admin") == role::user);
  CHECK(role_of_envelope("") == role::user);
  CHECK(to_string(role::admin) == "admin");
}

TEST_CASE("another user's container and a missing one get the same refusal") {
  auto e = no_such_container("web");
  CHECK(e.code == errc::not_found);
  CHECK(e.message == "no container 'web'");
}

TEST_CASE("the pool rule: admins anywhere, users on the shared pool and their own") {
  using dockmesh::common::pool_admits;
  const std::string alice = "u0123456789abcdef0123456789abcdef";
  const std::string bob = "ufedcba9876543210fedcba9876543210";
  const std::vector<std::string> none;
  CHECK(pool_admits("", alice, false, none));
  CHECK(pool_admits(alice, alice, false, none));
  CHECK_FALSE(pool_admits(bob, alice, false, none));
  CHECK_FALSE(pool_admits(bob, "", false, none));  // no user is nobody's customer
  CHECK(pool_admits(bob, alice, true, none));
}

TEST_CASE("the pool rule: a team's pool takes its members only") {
  using dockmesh::common::pool_admits;
  using dockmesh::common::team_of_pool;
  const std::string alice = "u0123456789abcdef0123456789abcdef";
  const std::vector<std::string> ops{"ops", "web"};
  CHECK(team_of_pool("team:ops") == "ops");
  CHECK(team_of_pool("team:").empty());
  CHECK(team_of_pool(alice).empty());
  CHECK(pool_admits("team:ops", alice, false, ops));
  CHECK(pool_admits("team:web", alice, false, ops));
  CHECK_FALSE(pool_admits("team:db", alice, false, ops));
  CHECK_FALSE(pool_admits("team:ops", alice, false, {}));
  CHECK_FALSE(pool_admits("team:ops", "", false, ops));  // no user is in no team
  CHECK_FALSE(pool_admits("ops", alice, false, ops));    // a bare name is not a team's pool
  CHECK(pool_admits("team:db", alice, true, {}));
}
