#include "ui-bridge/user_store.hpp"

#include <doctest/doctest.h>

#include "ui-bridge/test_support.hpp"

using namespace dockmesh::bridge;
using dockmesh::common::errc;

TEST_CASE("users are added once, log in with their password only, and are listed") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  user_store users(kv, hash_strength::minimal);
  REQUIRE(users.add("alice", "alice-password", user_role::user).ok());
  auto again = users.add("alice", "other-password", user_role::admin);
  REQUIRE_FALSE(again.ok());
  CHECK(again.err().code == errc::conflict);
  CHECK(users.check_login("alice", "alice-password").ok());
  auto wrong = users.check_login("alice", "alice-passwore");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.err().code == errc::unauthorized);
  auto nobody = users.check_login("nobody", "alice-password");
  REQUIRE_FALSE(nobody.ok());
  CHECK(nobody.err().message == wrong.err().message);  // no hint about which names exist
  auto list = users.list();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK(list->at(0).role == user_role::user);
  CHECK_FALSE(public_view(list->at(0)).contains("hash"));
}

TEST_CASE("a password change bumps the generation; removal forgets the user") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  user_store users(kv, hash_strength::minimal);
  auto u = users.add("bob", "first-password", user_role::admin);
  REQUIRE(u.ok());
  auto changed = users.set_password("bob", "second-password");
  REQUIRE(changed.ok());
  CHECK(changed->generation == u->generation + 1);
  CHECK_FALSE(users.check_login("bob", "first-password").ok());
  CHECK(users.check_login("bob", "second-password").ok());
  REQUIRE(users.remove("bob").ok());
  CHECK(users.remove("bob").err().code == errc::not_found);
  CHECK_FALSE(users.find("bob")->has_value());
  CHECK(users.set_password("bob", "third-password").err().code == errc::not_found);
}

TEST_CASE("user names stay plain") {
  for (auto good : {"alice", "a", "user.1", "x_y-z", "0day"}) CHECK(valid_user_name(good));
  for (auto bad :
       {"", "Alice", "-x", ".x", "a/b", "a b", "a=b", "abcdefghijklmnopqrstuvwxyz0123456"})
    CHECK_FALSE(valid_user_name(bad));
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  user_store users(kv, hash_strength::minimal);
  CHECK(users.add("../etc", "long-password", user_role::user).err().code == errc::invalid_argument);
}

TEST_CASE("the first start creates admin once, with a generated password") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  user_store users(kv, hash_strength::minimal);
  auto first = users.ensure_first_admin();
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  auto admin = users.check_login("admin", **first);
  REQUIRE(admin.ok());
  CHECK(admin->role == user_role::admin);
  auto second = users.ensure_first_admin();
  REQUIRE(second.ok());
  CHECK_FALSE(second->has_value());
}

TEST_CASE("users persist across reopening the database") {
  test::temp_dir dir;
  {
    rocks_kv_store kv(dir.path + "/db");
    user_store users(kv, hash_strength::minimal);
    REQUIRE(users.add("carol", "carol-password", user_role::user).ok());
  }
  rocks_kv_store kv(dir.path + "/db");
  user_store users(kv, hash_strength::minimal);
  CHECK(users.check_login("carol", "carol-password").ok());
  CHECK_THROWS_WITH_AS(rocks_kv_store(dir.path + "/db"), doctest::Contains("in use"),
                       std::runtime_error);
}

TEST_CASE("every user gets an immutable id; a re-created name gets a new one") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  user_store users(kv, hash_strength::minimal);
  auto first = users.add("carol", "carol-password", user_role::user);
  REQUIRE(first.ok());
  CHECK(dockmesh::common::is_user_id(first->id));
  auto changed = users.set_password("carol", "carol-password-2");
  REQUIRE(changed.ok());
  CHECK(changed->id == first->id);  // a password change keeps the id
  CHECK((*users.find("carol"))->id == first->id);
  REQUIRE(users.remove("carol").ok());
  auto second = users.add("carol", "carol-password", user_role::user);
  REQUIRE(second.ok());
  CHECK(second->id != first->id);
  CHECK(public_view(*second)["id"] == second->id);
}

TEST_CASE("a record stored before ids gets a stable derived id") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  user_store users(kv, hash_strength::minimal);
  nlohmann::json old = {{"name", "dave"},
                        {"role", "user"},
                        {"hash", "x"},
                        {"generation", 1},
                        {"created", 1700000000000}};
  REQUIRE(kv.put_json("user/dave", old, durability::sync).ok());
  auto a = users.find("dave");
  auto b = users.find("dave");
  REQUIRE((a.ok() && a->has_value() && b.ok() && b->has_value()));
  CHECK(dockmesh::common::is_user_id((*a)->id));
  CHECK((*a)->id == (*b)->id);
  old["created"] = 1700000000001;  // the same name created again later: another id
  REQUIRE(kv.put_json("user/dave", old, durability::sync).ok());
  CHECK((*users.find("dave"))->id != (*a)->id);
}
