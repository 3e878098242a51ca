#include "common/bus_client.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::common;

TEST_CASE("broker addresses parse with and without a port") {
  auto a = parse_broker_address("127.0.0.1");
  REQUIRE(a.ok());
  CHECK(a->xsub_endpoint() == "tcp://127.0.0.1:7400");
  CHECK(a->xpub_endpoint() == "tcp://127.0.0.1:7401");
  CHECK(a->router_endpoint() == "tcp://127.0.0.1:7402");
  auto b = parse_broker_address("localhost:9000");
  REQUIRE(b.ok());
  CHECK(b->xpub_endpoint() == "tcp://localhost:9001");
  for (const char* bad : {"", ":7400", "host:", "host:0", "host:70000", "host:12a", "a/b:1"})
    CHECK_FALSE(parse_broker_address(bad).ok());
}

TEST_CASE("recent_ids forgets the oldest beyond its capacity") {
  recent_ids ids(3);
  CHECK(ids.insert("a"));
  CHECK_FALSE(ids.insert("a"));
  CHECK(ids.insert("b"));
  CHECK(ids.insert("c"));
  CHECK(ids.insert("d"));  // evicts "a"
  CHECK(ids.size() == 3);
  CHECK(ids.insert("a"));
  CHECK_FALSE(ids.insert("d"));
}
