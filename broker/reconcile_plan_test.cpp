#include "broker/reconcile_plan.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::broker;

namespace {

constexpr std::int64_t now = 1'000'000;

host_view host(host_state state, bool placeable, std::int64_t down_since) {
  host_view h;
  h.state = state;
  h.placeable = placeable;
  h.down_since = down_since;
  return h;
}

plan_input fleet(int hosts) {
  plan_input in;
  in.now_ms = now;
  for (int i = 1; i <= hosts; ++i)
    in.hosts[std::string("h").append(std::to_string(i))] = host(host_state::up, true, 0);
  return in;
}

desired_service service(int replicas, std::int64_t grace_ms = 3000) {
  desired_service s;
  s.id = "s1";
  s.replicas = replicas;
  s.grace_ms = grace_ms;
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

std::map<std::string, int> per_host(const reconcile_plan& p) {
  std::map<std::string, int> m;
  for (const auto& c : p.creates) ++m[c.host];
  return m;
}

}  // namespace

TEST_CASE("a replica's request id round-trips and nothing else parses as one") {
  replica_key k{"s0123456789abcdef", 2, 7, 13};
  auto id = replica_request_id(k);
  CHECK(id == "svc-s0123456789abcdef-g2-r7-v13");
  CHECK(parse_replica_request(id) == k);
  k.attempt = 2;
  CHECK(replica_request_id(k) == "svc-s0123456789abcdef-g2-r7-v13-a2");
  CHECK(parse_replica_request(replica_request_id(k)) == k);
  for (const char* bad : {"svc-", "svc--g1-r1-v1", "svc-s1-g1-r0-v1", "svc-s1-g1-r1",
                          "svc-s1-g1-r1-v1x", "abc", "svc-s1-gx-r1-v1", "svc-s1-g1-r-1-v1", "req-1",
                          "svc-s1-g1-r1-v1-a0", "svc-s1-g1-r1-v1-a", "svc-s1-g1-r1-v1-a1-a2"})
    CHECK_FALSE(parse_replica_request(bad).has_value());
}

TEST_CASE("missing replicas spread over the up hosts, numbered from 1") {
  auto in = fleet(3);
  in.services["s1"] = service(3);
  auto p = plan_reconcile(in);
  REQUIRE(p.creates.size() == 3);
  CHECK(per_host(p) == std::map<std::string, int>{{"h1", 1}, {"h2", 1}, {"h3", 1}});
  for (int i = 0; i < 3; ++i) CHECK(p.creates[i].key.replica == i + 1);
  CHECK(p.removes.empty());
}

TEST_CASE("pending creates count, and hosts that are down or without Docker take nothing") {
  auto in = fleet(3);
  in.hosts["h2"].placeable = false;
  in.services["s1"] = service(4);
  in.pending_creates["s1"][1] = "h1";
  auto p = plan_reconcile(in);
  REQUIRE(p.creates.size() == 3);
  CHECK(per_host(p) == std::map<std::string, int>{{"h1", 1}, {"h3", 2}});
  CHECK(p.creates[0].key.replica == 2);
  in.services["s1"].constraints = {{"zone", "b"}};
  in.hosts["h2"].labels = {{"zone", "b"}};
  in.hosts["h2"].placeable = true;
  p = plan_reconcile(in);
  REQUIRE(p.creates.size() == 3);
  CHECK(per_host(p) == std::map<std::string, int>{{"h2", 3}});
  in.hosts.clear();
  p = plan_reconcile(in);
  CHECK(p.creates.empty());
  CHECK(p.blocked.count("s1") == 1);
}

TEST_CASE("placement.pool keeps replicas in one pool; pack fills one host before the next") {
  auto in = fleet(3);
  in.hosts["h2"].pool = "u-alice";
  in.hosts["h3"].pool = "team:ops";
  auto s = service(4);
  s.owner = "u-alice";
  s.owner_teams = {"ops"};
  s.pool = "team:ops";
  in.services["s1"] = s;
  CHECK(per_host(plan_reconcile(in)) == std::map<std::string, int>{{"h3", 4}});
  in.services["s1"].pool = "shared";
  CHECK(per_host(plan_reconcile(in)) == std::map<std::string, int>{{"h1", 4}});
  in.services["s1"].pool = "u-alice";
  CHECK(per_host(plan_reconcile(in)) == std::map<std::string, int>{{"h2", 4}});
  // A pool that is not open to the owner takes nothing, whatever the spec says.
  in.services["s1"].pool = "u-bob";
  in.hosts["h1"].pool = "u-bob";
  auto p = plan_reconcile(in);
  CHECK(p.creates.empty());
  CHECK(p.blocked.count("s1") == 1);
  // pack: where most of the service already runs, then the busiest host.
  in = fleet(3);
  s = service(4);
  s.pack = true;
  in.services["s1"] = s;
  in.hosts["h2"].containers = 5;
  CHECK(per_host(plan_reconcile(in)) == std::map<std::string, int>{{"h2", 4}});
  observe(in, 1, "h3");
  CHECK(per_host(plan_reconcile(in)) == std::map<std::string, int>{{"h3", 3}});
  // Scaling a packed service down takes from the emptiest host first.
  in.services["s1"].replicas = 2;
  observe(in, 2, "h1");
  observe(in, 3, "h1");
  observe(in, 4, "h3");
  observe(in, 5, "h1");
  p = plan_reconcile(in);
  REQUIRE(p.removes.size() == 3);
  CHECK(p.removes[0].host == "h3");
  CHECK(p.removes[1].host == "h3");
  CHECK(p.removes[2].host == "h1");
}

TEST_CASE("scale down removes from the fullest host, highest index first") {
  auto in = fleet(3);
  in.services["s1"] = service(2);
  observe(in, 1, "h1");
  observe(in, 2, "h2");
  observe(in, 3, "h3");
  observe(in, 4, "h1");
  observe(in, 5, "h2");
  auto p = plan_reconcile(in);
  CHECK(p.creates.empty());
  REQUIRE(p.removes.size() == 3);
  CHECK(p.removes[0].replica == 5);
  CHECK(p.removes[1].replica == 4);
  CHECK(p.removes[0].why == remove_reason::scale_down);
  in.pending_removes = {"c5h2", "c4h1", p.removes[2].container_id};
  CHECK(plan_reconcile(in).removes.empty());
}

TEST_CASE("a host down within the grace keeps its replica; past the grace it is replaced") {
  auto in = fleet(3);
  in.services["s1"] = service(3, 3000);
  observe(in, 1, "h1");
  observe(in, 2, "h2");
  observe(in, 3, "h3");
  in.hosts["h3"] = host(host_state::down, false, now - 2000);
  CHECK(plan_reconcile(in).creates.empty());
  in.hosts["h3"].down_since = now - 3000;
  auto p = plan_reconcile(in);
  REQUIRE(p.creates.size() == 1);
  CHECK(p.creates[0].key.replica == 4);  // the name of replica 3 is still in the directory
  CHECK(p.creates[0].replacement);
  CHECK(p.creates[0].host != "h3");
  CHECK(p.lost == std::vector<std::string>{"c3h3"});
  in.hosts.erase("h3");  // gone
  CHECK(plan_reconcile(in).creates.size() == 1);
}

TEST_CASE("a returned host: remove-returned drops the original, keep-returned the replacement") {
  auto in = fleet(3);
  in.services["s1"] = service(3);
  observe(in, 1, "h1");
  observe(in, 2, "h2");
  observe(in, 3, "h3");
  observe(in, 4, "h1");
  in.replaced = {"c3h3"};
  auto p = plan_reconcile(in);
  REQUIRE(p.removes.size() == 1);
  CHECK(p.removes[0].container_id == "c3h3");
  CHECK(p.removes[0].why == remove_reason::returned);
  in.services["s1"].remove_returned = false;
  p = plan_reconcile(in);
  REQUIRE(p.removes.size() == 1);
  CHECK(p.removes[0].container_id == "c4h1");
}

TEST_CASE("two copies of one replica: the running one stays") {
  auto in = fleet(2);
  in.services["s1"] = service(1);
  observe(in, 1, "h1", "exited");
  observe(in, 1, "h2");
  auto p = plan_reconcile(in);
  CHECK(p.creates.empty());
  REQUIRE(p.removes.size() == 1);
  CHECK(p.removes[0].container_id == "c1h1");
  CHECK(p.removes[0].why == remove_reason::duplicate);
}

TEST_CASE("replicas of a deleted service go, where their host is up") {
  auto in = fleet(2);
  observe(in, 1, "h1");
  observe(in, 2, "h2");
  in.hosts["h2"] = host(host_state::down, false, now);
  auto p = plan_reconcile(in);
  REQUIRE(p.removes.size() == 1);
  CHECK(p.removes[0].container_id == "c1h1");
  CHECK(p.removes[0].why == remove_reason::deleted);
}

// Rolling update (docs/services.md "Rolling update"): three replicas of generation 1 on three
// hosts, the service now at generation 2.
namespace {

plan_input rolling(int batch = 1) {
  auto in = fleet(3);
  auto s = service(3);
  s.generation = 2;
  s.version = 2;
  s.update.batch_size = batch;
  s.update.gate_ms = 5000;
  s.update.deadline_ms = 35000;
  in.services["s1"] = s;
  for (int i = 1; i <= 3; ++i) {
    observe(in, i, "h" + std::to_string(i));
    in.observed.back().running_since = now - 600000;
  }
  return in;
}

observed_replica& observe_new(plan_input& in, int replica, std::string host, std::string state,
                              std::int64_t running_for, std::int64_t generation = 2) {
  observe(in, replica, std::move(host), std::move(state));
  auto& r = in.observed.back();
  r.key.generation = generation;
  r.seen_since = now - running_for - 500;
  r.running_since = r.state == "running" ? now - running_for : 0;
  return r;
}

std::set<std::string> removed(const reconcile_plan& p) {
  std::set<std::string> out;
  for (const auto& r : p.removes) out.insert(r.container_id);
  return out;
}

}  // namespace

TEST_CASE("an update starts one batch of new replicas beside the old ones") {
  auto p = plan_reconcile(rolling(2));
  REQUIRE(p.creates.size() == 2);
  for (const auto& c : p.creates) CHECK(c.key.generation == 2);
  CHECK(p.creates[0].key.replica == 4);  // start-first: fresh indices, the old names stay
  CHECK(p.creates[1].key.replica == 5);
  CHECK(p.removes.empty());
  CHECK(p.update_batches.at("s1") == 2);
  CHECK(p.update_failed.empty());
}

TEST_CASE("the next batch waits for the gate; an old replica goes as each new one passes") {
  auto in = rolling();
  observe_new(in, 4, "h1", "running", 1000);  // 1 s of the 5 s gate
  auto p = plan_reconcile(in);
  CHECK(p.creates.empty());
  CHECK(p.removes.empty());
  CHECK(p.updated.at("s1") == 0);

  in.observed.back().running_since = now - 6000;  // through the gate
  p = plan_reconcile(in);
  REQUIRE(p.removes.size() == 1);
  CHECK(p.removes[0].container_id == "c3h3");  // the highest old index
  CHECK(p.removes[0].why == remove_reason::updated);
  REQUIRE(p.creates.size() == 1);
  CHECK(p.creates[0].key.replica == 5);
  CHECK(p.updated.at("s1") == 1);

  in.services["s1"].update.delay_ms = 10000;  // passed 1 s ago: the next batch waits
  p = plan_reconcile(in);
  CHECK(p.removes.size() == 1);
  CHECK(p.creates.empty());
}

TEST_CASE("a create in flight holds the next batch") {
  auto in = rolling();
  in.pending_creates["s1"][4] = "h1";
  auto p = plan_reconcile(in);
  CHECK(p.creates.empty());
  CHECK(p.removes.empty());
}

TEST_CASE("the health gate waits for Docker's healthy") {
  auto in = rolling();
  in.services["s1"].update.health_gate = true;
  auto& r = observe_new(in, 4, "h1", "running", 60000);
  r.health = "starting";
  CHECK(plan_reconcile(in).removes.empty());
  in.observed.back().health = "healthy";
  CHECK(plan_reconcile(in).removes.size() == 1);
  in.observed.back().health = "unhealthy";
  CHECK(plan_reconcile(in).update_failed.count("s1"));
  in.observed.back().health = "";  // no check in the image: the running period decides
  CHECK(plan_reconcile(in).removes.size() == 1);
}

TEST_CASE("a new replica that exits, fails to be created or misses the deadline fails the update") {
  auto in = rolling();
  observe_new(in, 4, "h1", "exited", 0);
  auto p = plan_reconcile(in);
  CHECK(p.update_failed.at("s1") == "replica 4 on h1 exited");
  CHECK(p.creates.empty());
  CHECK(p.removes.empty());  // nothing moves until the failure is acted on

  in = rolling();
  in.pending_creates["s1"][4] = "h1";
  in.failed_creates["s1"] = "replica 4 on h1: no such image";
  CHECK(plan_reconcile(in).update_failed.at("s1") == "replica 4 on h1: no such image");

  in = rolling();
  auto& r = observe_new(in, 4, "h1", "created", 0);
  r.seen_since = now - 36000;
  CHECK(plan_reconcile(in).update_failed.at("s1").find("within 35 s") != std::string::npos);
}

TEST_CASE("after a rollback only the failed generation's replicas go; the old ones stay") {
  auto in = rolling();
  auto& s = in.services["s1"];
  s.generation = 3;  // the rollback: runs what generation 1 ran
  s.same_generations = {1};
  s.update.on_failure = update_failure::ignore;
  observe_new(in, 4, "h1", "exited", 0, 2);
  auto p = plan_reconcile(in);
  CHECK(p.update_failed.empty());
  CHECK(removed(p) == std::set<std::string>{"c4h1"});
  CHECK(p.creates.empty());

  // A create of the failed generation still in flight counts for nothing and takes no old one.
  in.observed.pop_back();
  in.pending_creates["s1"][4] = "h1";
  in.stale_creates["s1"] = {4};
  p = plan_reconcile(in);
  CHECK(p.removes.empty());
  CHECK(p.creates.empty());
}

TEST_CASE("a paused update keeps the old replicas and drops the failed new one") {
  auto in = rolling();
  in.services["s1"].update.halted = true;
  observe_new(in, 4, "h1", "exited", 0);
  auto p = plan_reconcile(in);
  CHECK(p.update_failed.empty());
  CHECK(removed(p) == std::set<std::string>{"c4h1"});
  CHECK(p.creates.empty());
}

TEST_CASE("an old replica on a host down within its grace is not the one an update removes") {
  auto in = rolling();
  in.hosts["h3"] = host(host_state::down, false, now - 1000);  // grace 3 s: still counted
  observe_new(in, 4, "h1", "running", 6000);
  auto p = plan_reconcile(in);
  CHECK(removed(p) == std::set<std::string>{"c2h2"});
}
