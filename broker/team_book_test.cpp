#include "broker/team_book.hpp"

#include <doctest/doctest.h>

#include <random>

#include "broker/host_policy.hpp"
#include "broker/host_policy_calls.hpp"
#include "broker/reconcile_plan.hpp"
#include "broker/scheduler.hpp"
#include "broker/test_support.hpp"

using namespace dockmesh::broker;
using dockmesh::broker::testing::request_as;
using dockmesh::common::errc;
using nlohmann::json;

namespace {

const std::string alice = "u0123456789abcdef0123456789abcdef";
const std::string bob = "ufedcba9876543210fedcba9876543210";
const std::string carol = "u00000000000000000000000000000c0c";

}  // namespace

TEST_CASE("teams: set replaces members, kept in the store, checked on input") {
  testing::temp_dir dir;
  {
    state_db db(dir.str());
    rocks_service_store store(db);
    service_registry reg(store);
    team_book teams(reg);
    auto t = teams.set_team({{"name", "ops"}, {"members", {bob, alice, bob}}}, 10);
    REQUIRE(t);
    CHECK((*t)["members"] == json{alice, bob});  // sorted, repeats dropped
    CHECK((*t)["version"] == 1);
    CHECK(teams.teams_of(alice) == std::vector<std::string>{"ops"});
    CHECK(teams.teams_of(carol).empty());
    CHECK(teams.teams_of("").empty());
    REQUIRE(teams.set_team({{"name", "web"}, {"members", {alice}}}, 11));
    CHECK(teams.teams_of(alice) == std::vector<std::string>{"ops", "web"});
    for (const json& bad :
         {json{{"name", "Ops"}, {"members", json::array()}},
          json{{"name", ""}, {"members", json::array()}}, json{{"name", "ops"}},
          json{{"name", "ops"}, {"members", "u1"}}, json{{"name", "ops"}, {"members", {"a/b"}}},
          json{{"name", "ops"}, {"members", {1}}}})
      CHECK(teams.set_team(bad, 12).err().code == errc::invalid_argument);
    json many = {{"name", "big"}, {"members", json::array()}};
    for (int i = 0; i <= 1000; ++i) many["members"].push_back("u" + std::to_string(i));
    CHECK(teams.set_team(many, 12).err().code == errc::invalid_argument);
  }
  state_db db(dir.str());  // a restarted broker holds the same teams
  rocks_service_store store(db);
  service_registry reg(store);
  team_book teams(reg);
  CHECK(teams.teams_of(bob) == std::vector<std::string>{"ops"});
  auto t = teams.set_team({{"name", "ops"}, {"members", {alice}}}, 20);  // bob is cut off
  REQUIRE(t);
  CHECK((*t)["version"] == 2);
  CHECK(teams.teams_of(bob).empty());
  CHECK(teams.teams(alice).size() == 2);
  CHECK(teams.teams("").size() == 2);
}

TEST_CASE("teams: records from etcd round-trip; keep_only forgets a deleted one") {
  testing::temp_dir dir;
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  team_book teams(reg);
  CHECK(record_kind_of("t/ops") == record_kind::team);
  CHECK(record_prefix(record_kind::team) == "t/");
  json r = {{"id", "ops"}, {"name", "ops"}, {"members", {bob}}, {"version", 3}};
  CHECK(reg.apply_remote(record_kind::team, "ops", &r));
  CHECK(teams.teams_of(bob) == std::vector<std::string>{"ops"});
  json older = r;
  older["version"] = 2;
  older["members"] = json::array();
  CHECK(reg.apply_remote(record_kind::team, "ops", &older));
  CHECK(teams.teams_of(bob) == std::vector<std::string>{"ops"});
  CHECK_FALSE(reg.apply_remote(record_kind::team, "web", &r));  // id is not the key
  reg.keep_only(record_kind::team, {});
  CHECK_FALSE(teams.exists("ops"));
}

TEST_CASE("teams: a team's pool admits its members; deleting a team that owns hosts is 409") {
  testing::temp_dir dir;
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  host_policy_book book(reg);
  auto missing = book.set_policy({{"fqdn", "h2"}, {"pool", "team:ops"}}, 1);
  CHECK(missing.err().code == errc::not_found);
  CHECK(book.set_policy({{"fqdn", "h2"}, {"pool", "team:"}}, 1).err().code ==
        errc::invalid_argument);
  CHECK(book.set_policy({{"fqdn", "h2"}, {"pool", "team:Ops"}}, 1).err().code ==
        errc::invalid_argument);
  REQUIRE(book.teams().set_team({{"name", "ops"}, {"members", {alice, bob}}}, 1));
  REQUIRE(book.set_policy({{"fqdn", "h2"}, {"pool", "team:ops"}}, 2));
  CHECK(book.policy_of("h2").pool == "team:ops");
  CHECK_FALSE(book.check_targeted("h2", request_as(alice, "user")));
  CHECK_FALSE(book.check_targeted("h2", request_as(bob, "user")));
  auto no = book.check_targeted("h2", request_as(carol, "user"));
  REQUIRE(no);
  CHECK(no->code == 403);
  CHECK_FALSE(book.check_targeted("h2", request_as(carol, "admin")));
  CHECK(book.check_targeted("h2", request_as("", "")));
  REQUIRE(book.teams().set_team({{"name", "ops"}, {"members", {alice}}}, 3));
  CHECK(book.check_targeted("h2", request_as(bob, "user")));  // removed: cut off

  auto busy = book.teams().delete_team("ops");
  CHECK(busy.err().code == errc::conflict);
  CHECK(busy.err().message.find("h2") != std::string::npos);
  CHECK(book.teams().delete_team("nope").err().code == errc::not_found);
  REQUIRE(book.set_policy({{"fqdn", "h2"}, {"pool", "shared"}}, 4));
  REQUIRE(book.teams().delete_team("ops"));
  CHECK_FALSE(book.teams().exists("ops"));
}

TEST_CASE("teams: the control calls; admins set, the bridge for a user sees its own") {
  testing::temp_dir dir;
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  host_policy_book book(reg);
  container_index containers;
  host_policy_calls calls(book, containers);
  dockmesh::common::envelope e;
  e.action = "team-set";
  e.body = {{"name", "ops"}, {"members", {alice}}, {"admin", false}};
  CHECK(calls.handle(role::bridge, e, 1).err().code == errc::forbidden);
  e.body["admin"] = true;
  REQUIRE(calls.handle(role::bridge, e, 1));
  e.body = {{"name", "web"}, {"members", {bob}}};
  REQUIRE(calls.handle(role::admin, e, 2));
  e.action = "team-list";
  e.body = {{"user", bob}, {"admin", false}};
  auto mine = calls.handle(role::bridge, e, 3);
  REQUIRE(mine);
  REQUIRE((*mine)["teams"].size() == 1);
  CHECK((*mine)["teams"][0]["name"] == "web");
  e.body = {{"admin", false}};
  CHECK((*calls.handle(role::bridge, e, 3))["teams"].empty());  // no user: no teams
  e.body = json::object();
  CHECK((*calls.handle(role::admin, e, 3))["teams"].size() == 2);
  e.action = "team-delete";
  e.body = {{"name", "web"}};
  CHECK(calls.handle(role::bridge, e, 4).err().code == errc::forbidden);
  e.body = {{"name", 7}};
  CHECK(calls.handle(role::admin, e, 4).err().code == errc::invalid_argument);
  e.body = {{"name", "web"}};
  CHECK(calls.handle(role::admin, e, 4));
  CHECK(is_policy_call("team-list"));
}

TEST_CASE("scheduler and plan: a team's pool takes its members' requests and services") {
  std::vector<host_candidate> hosts(2);
  for (int i = 0; i < 2; ++i) {
    hosts[i].fqdn = "h" + std::to_string(i + 1);
    hosts[i].up = hosts[i].docker_up = true;
    hosts[i].memory_bytes = 1 << 30;
  }
  hosts[0].closed = true;
  hosts[1].pool = "team:ops";
  std::mt19937_64 rng(1);
  placement_request r;
  r.user = carol;
  r.any_pool = false;
  CHECK_FALSE(place(hosts, r, rng).ok);  // not a member
  r.teams = {"ops"};
  auto placed = place(hosts, r, rng);
  REQUIRE(placed.ok);
  CHECK(placed.hosts[0].fqdn == "h2");

  plan_input in;
  in.now_ms = 1'000'000;
  host_view v;
  v.placeable = true;
  v.pool = "team:ops";
  in.hosts["h2"] = v;
  desired_service s;
  s.id = "s1";
  s.replicas = 1;
  s.owner = carol;
  in.services["s1"] = s;
  CHECK(plan_reconcile(in).creates.empty());
  in.services["s1"].owner_teams = {"ops"};
  auto plan = plan_reconcile(in);
  REQUIRE(plan.creates.size() == 1);
  CHECK(plan.creates[0].host == "h2");
}
