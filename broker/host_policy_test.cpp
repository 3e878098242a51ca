#include "broker/host_policy.hpp"

#include <doctest/doctest.h>

#include <random>

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

}  // namespace

TEST_CASE("host policies: set field by field, kept in the store, checked on input") {
  testing::temp_dir dir;
  {
    state_db db(dir.str());
    rocks_service_store store(db);
    service_registry reg(store);
    host_policy_book book(reg);
    std::string changed;
    book.on_change([&](const std::string& fqdn) { changed = fqdn; });
    CHECK(book.policy_of("h1").pool.empty());  // no record: shared and open
    CHECK_FALSE(book.policy_of("h1").closed());
    auto p = book.set_policy({{"fqdn", "h1"}, {"pool", alice}}, 10);
    REQUIRE(p);
    CHECK(changed == "h1");
    CHECK((*p)["pool"] == alice);
    CHECK((*p)["version"] == 1);
    REQUIRE(book.set_policy({{"fqdn", "h1"}, {"cordoned", true}}, 20));
    CHECK(book.policy_of("h1").pool == alice);  // left out: kept
    CHECK(book.policy_of("h1").cordoned);
    REQUIRE(book.set_policy({{"fqdn", "h1"}, {"draining", true}, {"batch", 2}, {"deadline_s", 60}},
                            30));
    auto d = book.policy_of("h1");
    CHECK(d.draining);
    CHECK(d.drain_batch == 2);
    CHECK(d.drain_deadline == 30 + 60000);
    CHECK(book.set_policy({{"fqdn", "h1"}, {"pool", "not-a-user"}}, 40).err().code ==
          errc::invalid_argument);
    CHECK(book.set_policy({{"fqdn", "h1"}, {"batch", 0}}, 40).err().code == errc::invalid_argument);
    CHECK(book.set_policy({{"fqdn", "a/b"}}, 40).err().code == errc::invalid_argument);
    CHECK(book.set_policy({{"fqdn", "h1"}, {"cordoned", "yes"}}, 40).err().code ==
          errc::invalid_argument);
    REQUIRE(book.set_quota({{"user", alice}, {"containers", 2}}, 50));
    CHECK(book.quota_of(alice)->containers == 2);
    CHECK(book.set_quota({{"user", "alice"}}, 50).err().code == errc::invalid_argument);
  }
  state_db db(dir.str());  // a restarted broker holds the same rules
  rocks_service_store store(db);
  service_registry reg(store);
  host_policy_book book(reg);
  CHECK(book.policy_of("h1").pool == alice);
  CHECK(book.policy_of("h1").draining);
  CHECK(book.quota_of(alice)->containers == 2);
  REQUIRE(book.set_policy({{"fqdn", "h1"}, {"pool", "shared"}, {"draining", false}}, 60));
  CHECK(book.policy_of("h1").pool.empty());
  CHECK(book.policy_of("h1").drain_deadline == 0);
  REQUIRE(book.set_quota({{"user", alice}, {"containers", 0}}, 70));  // both 0: removed
  CHECK_FALSE(book.quota_of(alice));
}

TEST_CASE("a record from etcd (apply_remote) is what the book answers; an older one is not") {
  testing::temp_dir dir;
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  host_policy_book book(reg);
  json r = {{"id", "h2"}, {"fqdn", "h2"}, {"pool", bob}, {"cordoned", true}, {"version", 3}};
  CHECK(reg.apply_remote(record_kind::host_policy, "h2", &r));
  CHECK(book.policy_of("h2").pool == bob);
  json older = r;
  older["version"] = 2;
  older["pool"] = "";
  CHECK(reg.apply_remote(record_kind::host_policy, "h2", &older));
  CHECK(book.policy_of("h2").pool == bob);
  reg.keep_only(record_kind::host_policy, {});
  CHECK(book.policy_of("h2").pool.empty());
  CHECK(record_kind_of("h/host1") == record_kind::host_policy);
  CHECK(record_kind_of("q/u1") == record_kind::quota);
  CHECK_FALSE(record_kind_of("x/1"));
}

TEST_CASE("targeted requests: a user is refused on another customer's host, never an admin") {
  testing::temp_dir dir;
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  host_policy_book book(reg);
  REQUIRE(book.set_policy({{"fqdn", "h3"}, {"pool", bob}}, 1));
  auto no = book.check_targeted("h3", request_as(alice, "user"));
  REQUIRE(no);
  CHECK(no->code == 403);
  CHECK(no->message.find("another customer's pool") != std::string::npos);
  CHECK_FALSE(book.check_targeted("h3", request_as(bob, "user")));
  CHECK_FALSE(book.check_targeted("h3", request_as(alice, "admin")));
  CHECK_FALSE(book.check_targeted("h1", request_as(alice, "user")));  // shared
  CHECK(book.check_targeted("h3", request_as("", "")));  // no user: not the owner either
}

TEST_CASE("the control calls: setting needs an admin; list shows drain progress") {
  testing::temp_dir dir;
  state_db db(dir.str());
  rocks_service_store store(db);
  service_registry reg(store);
  host_policy_book book(reg);
  container_index containers;
  host_policy_calls calls(book, containers);
  dockmesh::common::envelope e;
  e.action = "host-policy-set";
  e.body = {{"fqdn", "h1"}, {"cordoned", true}, {"user", alice}, {"admin", false}};
  CHECK(calls.handle(role::bridge, e, 1).err().code == errc::forbidden);
  e.body["admin"] = true;
  CHECK(calls.handle(role::bridge, e, 1));
  e.body = {{"fqdn", "h1"}, {"draining", true}};
  CHECK(calls.handle(role::admin, e, 2));
  e.action = "host-policy-list";
  e.body = json::object();
  auto list = calls.handle(role::bridge, e, 3);
  REQUIRE(list);
  REQUIRE((*list)["policies"].size() == 1);
  CHECK((*list)["policies"][0]["replicas_left"] == 0);
  CHECK(is_policy_call("quota-set"));
  CHECK_FALSE(is_policy_call("service-scale"));
}

TEST_CASE("scheduler: a user's request skips closed hosts and other customers' pools") {
  std::vector<host_candidate> hosts(3);
  for (int i = 0; i < 3; ++i) {
    hosts[i].fqdn = "h" + std::to_string(i + 1);
    hosts[i].up = hosts[i].docker_up = true;
    hosts[i].memory_bytes = 1 << 30;
  }
  hosts[1].closed = true;  // cordoned
  hosts[2].pool = bob;
  std::mt19937_64 rng(1);
  placement_request r;
  r.instances = 1;
  r.user = alice;
  r.any_pool = false;
  for (int n = 0; n < 5; ++n) {
    auto placed = place(hosts, r, rng);
    REQUIRE(placed.ok);
    CHECK(placed.hosts[0].fqdn == "h1");
    ++hosts[0].containers;
  }
  r.user = bob;
  CHECK(place(hosts, r, rng).hosts[0].fqdn == "h3");
  r.user = alice;
  hosts[0].closed = true;
  auto none = place(hosts, r, rng);
  CHECK_FALSE(none.ok);
  CHECK(none.excluded["pool"] == 3);
  CHECK(none.message.find("another customer's pool") != std::string::npos);
  r.any_pool = true;  // an admin: the pool is no bar, a closed host still is
  CHECK(place(hosts, r, rng).hosts[0].fqdn == "h3");
}

namespace {

plan_input three_hosts() {
  plan_input in;
  in.now_ms = 1'000'000;
  for (const char* h : {"h1", "h2", "h3"}) {
    host_view v;
    v.placeable = true;
    in.hosts[h] = v;
  }
  return in;
}

desired_service svc(int replicas, std::string owner = {}) {
  desired_service s;
  s.id = "s1";
  s.replicas = replicas;
  s.owner = std::move(owner);
  return s;
}

void observe(plan_input& in, int replica, std::string host, std::string state = "running") {
  in.observed.push_back({"c" + std::to_string(replica) + host,
                         std::move(host),
                         std::move(state),
                         {"s1", 1, replica, 1},
                         "",
                         0,
                         0});
}

}  // namespace

TEST_CASE("plan: new replicas avoid cordoned hosts and other customers' pools") {
  auto in = three_hosts();
  in.hosts["h2"].cordoned = true;
  in.hosts["h3"].pool = bob;
  in.services["s1"] = svc(3, alice);
  auto plan = plan_reconcile(in);
  REQUIRE(plan.creates.size() == 3);
  for (const auto& c : plan.creates) CHECK(c.host == "h1");
  in.services["s1"] = svc(3, bob);  // bob's service may use his pool
  plan = plan_reconcile(in);
  std::set<std::string> used;
  for (const auto& c : plan.creates) used.insert(c.host);
  CHECK(used == std::set<std::string>{"h1", "h3"});
  in.hosts["h1"].cordoned = true;
  in.services["s1"] = svc(1, alice);
  plan = plan_reconcile(in);
  CHECK(plan.creates.empty());
  CHECK(plan.blocked.count("s1") == 1);
}

TEST_CASE("plan: a drain moves replicas a batch at a time, the old one goes once the new runs") {
  auto in = three_hosts();
  in.services["s1"] = svc(3);
  for (int r = 1; r <= 3; ++r) observe(in, r, "h1");
  in.hosts["h1"].draining = true;
  in.hosts["h1"].drain_batch = 1;
  auto plan = plan_reconcile(in);
  REQUIRE(plan.creates.size() == 1);  // one replacement at a time, nothing removed yet
  CHECK(plan.creates[0].host != "h1");
  CHECK(plan.removes.empty());
  // The replacement is in flight: nothing more until it runs.
  in.pending_creates["s1"][plan.creates[0].key.replica] = plan.creates[0].host;
  plan = plan_reconcile(in);
  CHECK(plan.creates.empty());
  CHECK(plan.removes.empty());
  // It runs on h2: one old replica goes, and the next replacement starts.
  in.pending_creates.clear();
  observe(in, 4, "h2");
  plan = plan_reconcile(in);
  REQUIRE(plan.removes.size() == 1);
  CHECK(plan.removes[0].host == "h1");
  CHECK(plan.removes[0].why == remove_reason::drained);
  CHECK(plan.creates.size() == 1);
  // Past the deadline: every remaining replica goes and the rest are created at once.
  in.hosts["h1"].drain_overdue = true;
  plan = plan_reconcile(in);
  CHECK(plan.removes.size() == 3);
  CHECK(plan.creates.size() == 2);
  CHECK(to_string(remove_reason::drained) == "drained");
}

TEST_CASE("plan: a drain with nowhere to go keeps the replicas where they are") {
  auto in = three_hosts();
  in.hosts["h2"].cordoned = true;
  in.hosts["h3"].cordoned = true;
  in.hosts["h1"].draining = true;
  in.services["s1"] = svc(1);
  observe(in, 1, "h1");
  auto plan = plan_reconcile(in);
  CHECK(plan.creates.empty());
  CHECK(plan.removes.empty());
  CHECK(plan.blocked.count("s1") == 1);
}
