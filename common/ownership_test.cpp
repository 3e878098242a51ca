#include "common/ownership.hpp"

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
  CHECK(pool_admits("", alice, false));
  CHECK(pool_admits(alice, alice, false));
  CHECK_FALSE(pool_admits(bob, alice, false));
  CHECK_FALSE(pool_admits(bob, "", false));  // no user is nobody's customer
  CHECK(pool_admits(bob, alice, true));
}
