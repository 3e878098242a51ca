#include "broker/service_registry.hpp"

#include <doctest/doctest.h>

#include <tuple>
#include <vector>

#include "broker/service_calls.hpp"
#include "broker/test_support.hpp"

using namespace dockmesh::broker;
using dockmesh::common::errc;
using nlohmann::json;

namespace {

const service_caller alice{"u-alice", false};
const service_caller bob{"u-bob", false};
const service_caller root{"", true};

json spec(int replicas = 3) {
  return {{"image", "local/busybox:latest"}, {"cmd", {"sleep", "600"}}, {"replicas", replicas}};
}

}  // namespace

TEST_CASE("projects: names unique per user, invisible to other users") {
  testing::temp_dir dir;
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  auto p = reg.create_project(alice, "shop", "p1", 1);
  REQUIRE(p);
  CHECK((*p)["owner"] == "u-alice");
  CHECK(reg.create_project(alice, "shop", "p2", 1).err().code == errc::conflict);
  CHECK(reg.create_project(bob, "shop", "p3", 1));  // another user may use the name
  CHECK(reg.create_project(alice, "Shop!", "p4", 1).err().code == errc::invalid_argument);
  CHECK(reg.create_project(alice, "shop", "p1", 1));  // a retry of the same request
  CHECK(reg.list_projects(alice).size() == 1);
  CHECK(reg.list_projects(root).size() == 2);
  CHECK(reg.delete_project(bob, "p1").err().code == errc::not_found);
}

TEST_CASE("services: create, get by id or project/name, update, scale, delete; survive a reopen") {
  testing::temp_dir dir;
  std::string sid;
  {
    state_db db(dir.str());
    rocks_service_store store(db);
    service_registry reg(store);
    REQUIRE(reg.create_project(alice, "shop", "p1", 1));
    auto s = reg.create_service(alice, "shop", "web", spec(), "s1", 2);
    REQUIRE(s);
    sid = (*s)["id"];
    CHECK((*s)["spec"]["replicas"] == 3);
    CHECK((*s)["spec"]["reschedule"]["grace_s"] == 30);  // a default
    CHECK(reg.create_service(alice, "shop", "web", spec(), "s2", 2).err().code == errc::conflict);
    CHECK(reg.create_service(bob, "p1", "web2", spec(), "s3", 2).err().code == errc::not_found);
    CHECK(reg.create_service(alice, "shop", "bad", {{"image", "x"}, {"replicas", -1}}, "s4", 2)
              .err()
              .code == errc::invalid_argument);
    CHECK(reg.create_service(alice, "shop", "bad", {{"image", "x"}, {"colour", 1}}, "s4", 2)
              .err()
              .code == errc::invalid_argument);
    CHECK(reg.get_service(alice, "shop/web"));
    CHECK(reg.get_service(bob, sid).err().code == errc::not_found);
    auto scaled = reg.scale_service(alice, "shop/web", 5, 3);
    REQUIRE(scaled);
    CHECK((*scaled)["spec"]["replicas"] == 5);
    CHECK((*scaled)["generation"] == 1);  // scaling is no new version
    auto updated = reg.update_service(alice, sid, {{"image", "local/other:1"}}, 4);
    REQUIRE(updated);
    CHECK((*updated)["generation"] == 2);
    CHECK(reg.delete_project(alice, "shop").err().code == errc::conflict);
  }
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  auto s = reg.get_service(alice, sid);
  REQUIRE(s);
  CHECK((*s)["spec"]["image"] == "local/other:1");
  CHECK(reg.delete_service(alice, "shop/web"));
  CHECK(reg.list_services(alice, "").value().empty());
  CHECK(reg.delete_project(alice, "shop"));
}

TEST_CASE("service calls: the bridge must name the user; admin keys act as admin") {
  testing::temp_dir dir;
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  service_calls calls(reg);
  dockmesh::common::envelope req;
  req.id = "r1";
  req.action = "project-create";
  req.body = {{"name", "shop"}};
  CHECK(calls.handle(role::bridge, req, 1).err().code == errc::invalid_argument);
  req.body["user"] = "u-alice";
  auto p = calls.handle(role::bridge, req, 1);
  REQUIRE(p);
  CHECK(calls.handle(role::bridge, req, 1).value()["id"] == (*p)["id"]);  // the same request again
  req.action = "project-list";
  req.body = {{"user", "u-bob"}};
  CHECK(calls.handle(role::bridge, req, 1).value()["projects"].empty());
  req.body = json::object();
  CHECK(calls.handle(role::admin, req, 1).value()["projects"].size() == 1);
  for (const char* action : {"project-create", "project-delete", "service-create", "service-get",
                             "service-update", "service-scale", "service-delete"}) {
    req.action = action;
    req.body = nullptr;  // no body at all: a clear 400, never an exception
    auto out = calls.handle(role::admin, req, 1);
    CHECK(!out);
    if (!out) CHECK(out.err().code == errc::invalid_argument);
  }
  req.action = "service-scale";
  req.body = {{"user", "u-alice"}, {"service", "shop/web"}, {"replicas", "three"}};
  CHECK(calls.handle(role::bridge, req, 1).err().code == errc::invalid_argument);
}

TEST_CASE("with a mirror: local writes are mirrored, remote records applied once without echo") {
  testing::temp_dir dir_a, dir_b;
  state_db db_a(dir_a.str()), db_b(dir_b.str());
  rocks_service_store store_a(db_a), store_b(db_b);
  service_registry a(store_a), b(store_b);
  // a writes and mirrors (as to etcd); b applies what a mirrored (as from its watch).
  std::vector<std::tuple<record_kind, std::string, json>> mirrored;
  std::vector<std::string> names;  // each write's name claim
  a.set_mirror([&](record_kind k, const std::string& id, const json* r, const std::string& n) {
    mirrored.emplace_back(k, id, r ? *r : json());
    names.push_back(n);
  });
  int b_echoes = 0;
  b.set_mirror(
      [&](record_kind, const std::string&, const json*, const std::string&) { ++b_echoes; });
  REQUIRE(a.create_project(alice, "shop", "p1", 1));
  REQUIRE(a.create_service(alice, "shop", "web", spec(), "s1", 2));
  REQUIRE(a.scale_service(alice, "shop/web", 5, 3));
  CHECK(a.scale_service(alice, "shop/web", 5, 4));  // unchanged: nothing mirrored
  REQUIRE(mirrored.size() == 3);
  CHECK(names == std::vector<std::string>{"n/p/u-alice/shop", "n/s/p1/web", "n/s/p1/web"});
  for (const auto& [k, id, r] : mirrored) CHECK(b.apply_remote(k, id, r.is_null() ? nullptr : &r));
  auto before = b.revision();
  const auto& [k, id, last] = mirrored.back();
  CHECK(b.apply_remote(k, id, &last));  // the same record again (a second watch event)
  CHECK(b.revision() == before);
  CHECK(b_echoes == 0);
  // The create's event again, late (after the scale): an older version is not taken.
  const json& created = std::get<2>(mirrored[1]);
  CHECK(created["version"] == 1);
  CHECK(b.apply_remote(record_kind::service, "s1", &created));
  auto got = b.get_service(alice, "shop/web");
  REQUIRE(got);
  CHECK((*got)["spec"]["replicas"] == 5);
  CHECK((*got)["version"] == 2);
  // A deletion travels as a null record; a record under another id is refused.
  REQUIRE(a.delete_service(alice, "shop/web"));
  CHECK(std::get<2>(mirrored.back()).is_null());
  CHECK(names.back() == "n/s/p1/web");  // a deletion releases the name it held
  CHECK(b.apply_remote(record_kind::service, "s1", nullptr));
  CHECK(b.get_service(alice, "s1").err().code == errc::not_found);
  json wrong = {{"id", "p9"}, {"name", "x"}, {"owner", "u-alice"}};
  CHECK_FALSE(b.apply_remote(record_kind::project, "p8", &wrong));
  // What b applied is in its store: a registry made from it sees the project.
  service_registry reloaded(store_b);
  CHECK(reloaded.list_projects(alice).size() == 1);
  // A snapshot without the project (deleted while b was not watching): b forgets it.
  b.keep_only(record_kind::project, {"p1"});
  CHECK(b.list_projects(alice).size() == 1);
  b.keep_only(record_kind::project, {});
  CHECK(b.list_projects(alice).empty());
  CHECK(service_registry(store_b).list_projects(alice).empty());
  CHECK(b_echoes == 0);
  // etcd gave the name to another broker's record: this one goes, here and in the store.
  REQUIRE(b.create_project(alice, "shop", "p2", 5));
  b.withdraw(record_kind::project, "p2");
  CHECK(b.list_projects(alice).empty());
  CHECK(service_registry(store_b).list_projects(alice).empty());
  CHECK(b_echoes == 1);  // the create, not the withdrawal
}

TEST_CASE("a failed rolling update goes back to the previous spec as a new generation, or pauses") {
  testing::temp_dir dir;
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  REQUIRE(reg.create_project(alice, "shop", "p1", 1));
  auto s = reg.create_service(alice, "shop", "web", spec(), "s1", 2);
  REQUIRE(s);
  std::string sid = (*s)["id"];
  auto u = reg.update_service(alice, sid, {{"cmd", {"sh", "-c", "exit 3"}}, {"replicas", 4}}, 3);
  REQUIRE(u);
  CHECK((*u)["generation"] == 2);
  CHECK((*u)["previous_generation"] == 1);
  CHECK((*u)["previous_spec"]["cmd"] == json{"sleep", "600"});

  auto r = reg.fail_update(sid, "replica 4 on h1 exited", 4);
  REQUIRE(r);
  CHECK((*r)["generation"] == 3);
  CHECK((*r)["spec"]["cmd"] == json{"sleep", "600"});  // the container fields come back
  CHECK((*r)["spec"]["replicas"] == 4);                // the rest stays
  CHECK((*r)["same_generations"] == json{1});
  CHECK((*r)["update_status"]["state"] == "rolled-back");
  CHECK((*r)["update_status"]["failed_generation"] == 2);
  CHECK((*r)["update_status"]["error"] == "replica 4 on h1 exited");
  CHECK(reg.get_service(alice, sid)->at("version") == (*r)["version"]);  // stored

  // The next update forgets the rollback; without rollback a failure pauses it.
  u = reg.update_service(alice, sid,
                         {{"image", "local/nonexistent:1"}, {"update", {{"rollback", false}}}}, 5);
  REQUIRE(u);
  CHECK((*u)["generation"] == 4);
  CHECK_FALSE(u->contains("update_status"));
  CHECK((*u)["previous_same"] == json{1});
  r = reg.fail_update(sid, "no such image", 6);
  REQUIRE(r);
  CHECK((*r)["generation"] == 4);
  CHECK((*r)["update_status"]["state"] == "paused");
  CHECK(reg.fail_update("nope", "x", 7).err().code == errc::not_found);
}

TEST_CASE(
    "records of the earlier layout (p/<id>, s/<id>) move below r/; placements and hosts stay") {
  testing::temp_dir dir;
  {
    state_db db(dir.str());
    REQUIRE(db.put("p/p1", {{"id", "p1"}, {"name", "shop"}, {"owner", "u-alice"}, {"created", 1}},
                   true));
    REQUIRE(db.put("s/s1",
                   {{"id", "s1"},
                    {"name", "web"},
                    {"project", "p1"},
                    {"owner", "u-alice"},
                    {"spec", spec()},
                    {"generation", 1},
                    {"version", 1}},
                   true));
    REQUIRE(db.put("p/req-1", {{"created", 1}, {"hosts", json::array({{"h1", 1}})}}, true));
    REQUIRE(db.put("h/host1", {{"fqdn", "host1"}, {"status", "up"}}, true));
  }
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  CHECK(reg.list_projects(alice).size() == 1);
  CHECK(reg.get_service(alice, "shop/web"));
  int legacy = 0, placements = 0, moved = 0, hosts = 0;
  db.for_each("p/", [&](std::string_view, const json& v) {
    ++(v.contains("hosts") ? placements : legacy);
  });
  db.for_each("s/", [&](std::string_view, const json&) { ++legacy; });
  db.for_each("r/", [&](std::string_view, const json&) { ++moved; });
  db.for_each("h/", [&](std::string_view, const json&) { ++hosts; });
  CHECK(legacy == 0);
  CHECK(placements == 1);
  CHECK(moved == 2);
  CHECK(hosts == 1);
  // A host policy is kept apart from the host directory's h/<fqdn>.
  REQUIRE(reg.put_record(record_kind::host_policy, "host1", nullptr));
  json policy = {{"id", "host1"}, {"fqdn", "host1"}, {"pool", ""}, {"cordoned", true}};
  REQUIRE(reg.put_record(record_kind::host_policy, "host1", &policy));
  CHECK(db.get("h/host1")->value("status", "") == "up");
}
