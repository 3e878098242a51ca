#include "broker/broker_peers.hpp"

#include <doctest/doctest.h>

using dockmesh::broker::broker_peers;

TEST_CASE("a lone broker schedules at once") {
  broker_peers p(5, false, 0);
  CHECK(p.is_leader(0));
}

TEST_CASE("the lowest live id schedules; a dead peer stops counting") {
  broker_peers two(2, true, 0);
  CHECK(!two.is_leader(100));  // start-up grace: it may not have heard broker 1 yet
  two.heard(1, 3000);
  CHECK(!two.is_leader(4000));
  CHECK(two.is_leader(3000 + 3501));  // broker 1 silent for > 3.5 s
  two.heard(3, 7000);
  CHECK(two.is_leader(7000));
  broker_peers one(1, true, 0);
  one.heard(2, 100);
  CHECK(one.is_leader(3500));
  CHECK(one.live(3500).size() == 2);
}
