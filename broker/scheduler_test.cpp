#include "broker/scheduler.hpp"

#include <map>

#include <doctest/doctest.h>

using namespace dockmesh::broker;
using nlohmann::json;

namespace {

host_candidate host(std::string fqdn, int containers = 0, std::int64_t mem_gb = 8,
                    std::vector<std::pair<std::string, std::string>> labels = {}) {
  host_candidate h;
  h.fqdn = std::move(fqdn);
  h.up = true;
  h.docker_up = true;
  h.containers = containers;
  h.memory_bytes = mem_gb << 30;
  h.labels = std::move(labels);
  return h;
}

placement_request request(json body) {
  auto r = parse_placement_request(body);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.err().message));
  return *r;
}

std::mt19937_64 rng(1);

std::map<std::string, int> counts(const placement_result& p) {
  std::map<std::string, int> m;
  for (const auto& a : p.hosts) m[a.fqdn] = a.instances;
  return m;
}

}  // namespace

TEST_CASE("spread picks the host with the fewest containers, then spreads instances") {
  std::vector<host_candidate> fleet{host("a", 5), host("b", 1), host("c", 3)};
  auto one = place(fleet, request({{"image", "busybox"}}), rng);
  REQUIRE(one.ok);
  CHECK(counts(one) == std::map<std::string, int>{{"b", 1}});
  auto three = place(fleet, request({{"image", "busybox"}, {"instances", 3}}), rng);
  CHECK(counts(three) == std::map<std::string, int>{{"b", 3}});  // b: 1,2,3 still < c's 3... ties
  auto many = place(fleet, request({{"image", "busybox"}, {"instances", 6}}), rng);
  // loads become b:1->5, c:3->4, a:5: after 6 placements b has 4 and c 2 (all at 5 or 6).
  auto m = counts(many);
  CHECK(m["b"] + m["c"] + m["a"] == 6);
  CHECK(m["b"] == 4);
  CHECK(m["c"] == 2);
}

TEST_CASE("in-flight instances count as running containers, and only on their host") {
  std::vector<host_candidate> fleet{host("a", 1), host("b", 2), host("c", 3)};
  in_flight_counts in_flight{{"a", 3}, {"gone", 9}};  // a: 4 with those in flight
  auto one = place(fleet, request({{"image", "x"}}), rng, &in_flight);
  CHECK(counts(one) == std::map<std::string, int>{{"b", 1}});
  auto packed = place(fleet, request({{"image", "x"}, {"strategy", "binpack"}}), rng, &in_flight);
  CHECK(counts(packed) == std::map<std::string, int>{{"a", 1}});
  in_flight_counts none;
  CHECK(counts(place(fleet, request({{"image", "x"}}), rng, &none)) ==
        std::map<std::string, int>{{"a", 1}});
  CHECK(fleet[0].containers == 1);  // the fleet itself is not changed
}

TEST_CASE("spread over equal hosts uses one host per instance") {
  std::vector<host_candidate> fleet{host("a"), host("b"), host("c"), host("d")};
  auto p = place(fleet, request({{"image", "x"}, {"instances", 3}}), rng);
  REQUIRE(p.ok);
  CHECK(p.hosts.size() == 3);
}

TEST_CASE("binpack fills the fullest host that still fits") {
  std::vector<host_candidate> fleet{host("a", 5), host("b", 1), host("c", 3)};
  auto p = place(fleet, request({{"image", "x"}, {"strategy", "binpack"}, {"instances", 4}}), rng);
  CHECK(counts(p) == std::map<std::string, int>{{"a", 4}});
  // With memory, the host with the least free memory that fits wins, until it is full.
  std::vector<host_candidate> mem{host("big", 0, 16), host("small", 0, 2)};
  auto q = place(
      mem,
      request({{"image", "x"}, {"strategy", "binpack"}, {"memory", 1LL << 30}, {"instances", 3}}),
      rng);
  CHECK(counts(q) == std::map<std::string, int>{{"small", 2}, {"big", 1}});
}

TEST_CASE("random uses every eligible host over many draws and no other") {
  std::vector<host_candidate> fleet{host("a"), host("b"), host("c"), host("down")};
  fleet[3].up = false;
  std::map<std::string, int> seen;
  for (int i = 0; i < 300; ++i) {
    auto p = place(fleet, request({{"image", "x"}, {"strategy", "random"}}), rng);
    REQUIRE(p.ok);
    ++seen[p.hosts[0].fqdn];
  }
  CHECK(seen.size() == 3);
  CHECK(seen.count("down") == 0);
  for (const auto& [h, n] : seen) CHECK(n > 50);
}

TEST_CASE("healthy filter: down hosts and hosts without Docker are excluded") {
  std::vector<host_candidate> fleet{host("a"), host("b"), host("c")};
  fleet[0].up = false;
  fleet[1].docker_up = false;
  auto p = place(fleet, request({{"image", "x"}}), rng);
  CHECK(counts(p) == std::map<std::string, int>{{"c", 1}});
  fleet[2].up = false;
  auto none = place(fleet, request({{"image", "x"}}), rng);
  CHECK(!none.ok);
  CHECK(none.excluded["healthy"] == 3);
  CHECK(none.message.find("3 down or without a working Docker") != std::string::npos);
}

TEST_CASE("constraints on labels: == needs the label, != also matches hosts without it") {
  std::vector<host_candidate> fleet{host("eu-ssd", 0, 8, {{"region", "eu"}, {"disk", "ssd"}}),
                                    host("eu-hdd", 0, 8, {{"region", "eu"}, {"disk", "hdd"}}),
                                    host("us", 0, 8, {{"region", "us"}}), host("bare")};
  auto p =
      place(fleet, request({{"image", "x"}, {"constraints", {"region==eu", "disk!=hdd"}}}), rng);
  CHECK(counts(p) == std::map<std::string, int>{{"eu-ssd", 1}});
  auto q = place(fleet, request({{"image", "x"}, {"instances", 2}, {"constraints", {"disk!=hdd"}}}),
                 rng);
  CHECK(counts(q).count("eu-hdd") == 0);
  auto none = place(fleet, request({{"image", "x"}, {"constraints", {"region==ap"}}}), rng);
  CHECK(!none.ok);
  CHECK(none.excluded["constraints"] == 4);
  CHECK(none.message.find("region==ap") != std::string::npos);
}

TEST_CASE("memory: the request must fit what running containers leave free") {
  std::vector<host_candidate> fleet{host("a", 0, 4), host("b", 0, 4)};
  fleet[0].memory_reserved = 3LL << 30;
  auto p = place(fleet, request({{"image", "x"}, {"memory", 2LL << 30}}), rng);
  CHECK(counts(p) == std::map<std::string, int>{{"b", 1}});
  auto two = place(fleet, request({{"image", "x"}, {"memory", 2LL << 30}, {"instances", 2}}), rng);
  CHECK(counts(two) == std::map<std::string, int>{{"b", 2}});
  auto three =
      place(fleet, request({{"image", "x"}, {"memory", 2LL << 30}, {"instances", 3}}), rng);
  CHECK(!three.ok);
  CHECK(three.message.find("only 2 of 3") != std::string::npos);
  auto huge = place(fleet, request({{"image", "x"}, {"memory", 64LL << 30}}), rng);
  CHECK(huge.excluded["memory"] == 2);
}

TEST_CASE("unique: never two containers of one image on a host") {
  std::vector<host_candidate> fleet{host("a"), host("b"), host("c")};
  fleet[0].images = {"nginx:latest"};
  auto p = place(fleet, request({{"image", "nginx"}, {"unique", true}, {"instances", 2}}), rng);
  CHECK(counts(p) == std::map<std::string, int>{{"b", 1}, {"c", 1}});
  auto three = place(fleet, request({{"image", "nginx"}, {"unique", true}, {"instances", 3}}), rng);
  CHECK(!three.ok);
  auto binpack = place(
      fleet,
      request({{"image", "nginx"}, {"unique", true}, {"instances", 2}, {"strategy", "binpack"}}),
      rng);
  CHECK(binpack.hosts.size() == 2);
  fleet[1].images = fleet[2].images = {"nginx:latest"};
  auto none = place(fleet, request({{"image", "nginx:latest"}, {"unique", true}}), rng);
  CHECK(none.excluded["unique"] == 3);
}

TEST_CASE("candidates restrict the choice to the listed hosts") {
  std::vector<host_candidate> fleet{host("a", 9), host("b", 0), host("c", 5)};
  auto p = place(fleet, request({{"image", "x"}, {"candidates", {"a", "c"}}}), rng);
  CHECK(counts(p) == std::map<std::string, int>{{"c", 1}});
  auto none = place(fleet, request({{"image", "x"}, {"candidates", {"zz"}}}), rng);
  CHECK(none.excluded["candidates"] == 3);
}

TEST_CASE("bad scheduling fields are 400s naming the field") {
  auto bad = [](json body, const char* word) {
    auto r = parse_placement_request(body);
    REQUIRE(!r.ok());
    CHECK_MESSAGE(r.err().message.find(word) != std::string::npos, r.err().message);
  };
  bad({{"image", "x"}, {"strategy", "fastest"}}, "strategy");
  bad({{"image", "x"}, {"instances", 0}}, "instances");
  bad({{"image", "x"}, {"instances", "2"}}, "instances");
  bad({{"image", "x"}, {"memory", -1}}, "memory");
  bad({{"image", "x"}, {"constraints", {"region"}}}, "constraint");
  bad({{"image", "x"}, {"constraints", "region==eu"}}, "constraints");
  bad({{"image", "x"}, {"candidates", {"a/b"}}}, "candidates");
  bad({{"unique", true}}, "unique");
  bad(json::array(), "body");
}

TEST_CASE("image names normalise for unique; scheduling fields are stripped") {
  CHECK(normalize_image("busybox") == "busybox:latest");
  CHECK(normalize_image("localhost:5000/busybox") == "localhost:5000/busybox:latest");
  CHECK(normalize_image("local/busybox:1.36") == "local/busybox:1.36");
  CHECK(normalize_image("x@sha256:abc") == "x@sha256:abc");
  auto s = strip_scheduling_fields({{"image", "x"},
                                    {"strategy", "spread"},
                                    {"constraints", {}},
                                    {"unique", true},
                                    {"candidates", {}},
                                    {"instances", 2}});
  CHECK(s == json{{"image", "x"}, {"instances", 2}});
}
