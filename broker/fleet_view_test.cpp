#include "broker/fleet_view.hpp"

#include <doctest/doctest.h>

#include "broker/test_support.hpp"

using namespace dockmesh::broker;
using namespace dockmesh::broker::testing;
using nlohmann::json;

TEST_CASE("fleet_view rebuilds exactly the hosts named by directory events") {
  host_directory hosts(directory_timing{1000, 100000});
  container_index containers;
  fleet_view view;
  auto e1 = hosts.apply("register", host_record("a", 1, 1, {{"labels", {{"zone", "x"}}}}), 0);
  view.invalidate(*e1);
  const auto& first = view.get(hosts, containers);
  REQUIRE(first.size() == 1);
  CHECK(first[0].up);
  CHECK(first[0].labels == std::vector<std::pair<std::string, std::string>>{{"zone", "x"}});
  // A new host, and containers for the first one.
  view.invalidate(*hosts.apply("register", host_record("b", 1, 1), 0));
  view.invalidate(*containers.apply_inventory(inventory(
      "a", 1, 2, {container("c1", "n", "nginx"), container("c2", "m", "redis", "", "exited")})));
  const auto& second = view.get(hosts, containers);
  REQUIRE(second.size() == 2);
  CHECK(second[0].containers == 1);
  CHECK(second[0].images == std::set<std::string>{"nginx:latest", "redis:latest"});
  // Liveness: a tick's host-down reaches the view.
  view.invalidate(hosts.tick(5000));
  for (const auto& c : view.get(hosts, containers)) CHECK(!c.up);
  // A bare heartbeat emits nothing and the candidate stays as it was (still correct).
  auto bare = hosts.apply("heartbeat", host_record("b", 1, 2), 6000);
  view.invalidate(*bare);
  CHECK(view.get(hosts, containers)[1].up);  // the host-up event of the heartbeat
}

TEST_CASE("a host seen before its first inventory uses the heartbeat's count") {
  host_directory hosts;
  container_index containers;
  (void)hosts.apply("register", host_record("a", 1, 1, {{"containers_running", 7}}), 0);
  auto c = fleet_view::build(*hosts.find("a"), containers);
  CHECK(c.containers == 7);
  CHECK(c.memory_bytes == (1LL << 33));
}
