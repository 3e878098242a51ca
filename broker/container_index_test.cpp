#include "broker/container_index.hpp"

#include <algorithm>
#include <random>

#include <doctest/doctest.h>

#include "broker/test_support.hpp"

using namespace dockmesh::broker;
using namespace dockmesh::broker::testing;
using dockmesh::common::errc;
using nlohmann::json;

TEST_CASE("inventories are last-writer-wins per host and converge in any order") {
  std::vector<json> invs;
  for (int h = 1; h <= 3; ++h) {
    std::string fqdn = std::string("h").append(std::to_string(h));
    for (int s = 1; s <= 5; ++s) {
      json list = json::array();
      for (int c = 0; c < s; ++c)
        list.push_back(container(
            std::string("c").append(std::to_string(h)).append(std::to_string(c)).append("aaaa"),
            std::string("n").append(std::to_string(c)), "img"));
      invs.push_back(inventory(fqdn, 10, s, list));
    }
  }
  container_index ordered;
  for (const auto& i : invs) REQUIRE(ordered.apply_inventory(i).ok());
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    auto shuffled = invs;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    container_index other;
    for (const auto& i : shuffled) REQUIRE(other.apply_inventory(i).ok());
    REQUIRE(other.list("", "") == ordered.list("", ""));
  }
  CHECK(ordered.size() == 15);
  CHECK(ordered.on_host("h2").size() == 5);
}

TEST_CASE("inventory changes become container events") {
  container_index idx;
  auto first =
      idx.apply_inventory(inventory("h", 1, 1, json::array({container("aaa1", "web", "nginx")})));
  REQUIRE(first->size() == 1);
  CHECK((*first)[0].action == "container-added");
  auto second = idx.apply_inventory(inventory(
      "h", 1, 2, {container("aaa1", "web", "nginx", "", "exited"), container("bbb2", "db", "pg")}));
  REQUIRE(second->size() == 2);
  CHECK((*second)[0].action == "container-changed");
  CHECK((*second)[1].action == "container-added");
  auto third = idx.apply_inventory(inventory("h", 1, 3, json::array()));
  CHECK(third->size() == 2);
  CHECK((*third)[0].action == "container-removed");
  CHECK(idx.apply_inventory(inventory("h", 1, 2, json::array({container("zzz9", "x", "y")})))
            ->empty());
  CHECK(idx.size() == 0);
}

TEST_CASE("lookup by id, unique prefix or name, with owner") {
  container_index idx;
  (void)idx.apply_inventory(inventory(
      "h1", 1, 1,
      {container("abc123", "web", "nginx", "alice"), container("abd456", "db", "pg", "bob")}));
  (void)idx.apply_inventory(
      inventory("h2", 1, 1, json::array({container("ffff00", "web", "nginx", "carol")})));
  CHECK(idx.lookup("abc123", "")->host == "h1");
  CHECK(idx.lookup("abd", "")->name == "db");
  CHECK(idx.lookup("ab", "").err().code == errc::conflict);
  CHECK(idx.lookup("ab", "bob")->id == "abd456");
  CHECK(idx.lookup("web", "").err().code == errc::conflict);
  CHECK(idx.lookup("web", "carol")->host == "h2");
  CHECK(idx.lookup("/db", "")->id == "abd456");
  CHECK(idx.lookup("abc123", "bob").err().code == errc::not_found);
  CHECK(idx.lookup("zzz", "").err().code == errc::not_found);
  CHECK(idx.lookup("", "").err().code == errc::invalid_argument);
  CHECK(idx.list("h1", "").size() == 2);
  CHECK(idx.list("", "alice").size() == 1);
}

TEST_CASE("bad inventories are refused") {
  container_index idx;
  CHECK(!idx.apply_inventory(inventory("h", 1, 1, json::object())).ok());
  CHECK(!idx.apply_inventory(inventory("h", 1, 1, {{{"id", "../etc"}}})).ok());
  CHECK(!idx.apply_inventory(inventory("h", 1, 1, json::array({5}))).ok());
  CHECK(!idx.apply_inventory({{"fqdn", "h"}}).ok());
  CHECK(idx.size() == 0);
}

TEST_CASE("a gone host's containers leave the index; the index survives a reopen") {
  temp_dir dir;
  {
    state_db db(dir.str());
    container_index idx;
    (void)idx.apply_inventory(
        inventory("h1", 3, 4, json::array({container("abc", "web", "nginx", "alice")})));
    (void)idx.apply_inventory(inventory("h2", 1, 1, json::array({container("def", "db", "pg")})));
    CHECK(idx.remove_host("h2").size() == 1);
    REQUIRE(idx.flush(db).ok());
  }
  state_db db(dir.str());
  container_index idx;
  idx.load(db);
  CHECK(idx.size() == 1);
  CHECK(idx.lookup("abc", "")->owner == "alice");
  CHECK(idx.inventory_version("h1") == version_stamp{3, 4});
  CHECK(!idx.heard_since_start("h1"));
}
