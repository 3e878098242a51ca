#include "ui-bridge/rate_limiter.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::bridge;
using namespace std::chrono_literals;
using clock_type = rate_limiter::clock;

TEST_CASE("a key is blocked after max_failures inside the window, and freed as they age out") {
  rate_limiter rl({3, 60s});
  auto t0 = clock_type::time_point{} + 1000s;
  CHECK_FALSE(rl.blocked("alice", t0));
  rl.record_failure("alice", t0);
  rl.record_failure("alice", t0 + 10s);
  CHECK_FALSE(rl.blocked("alice", t0 + 10s));
  rl.record_failure("alice", t0 + 20s);
  auto wait = rl.blocked("alice", t0 + 20s);
  REQUIRE(wait);
  CHECK(*wait == 40s);  // until the first failure leaves the window
  CHECK(rl.blocked("alice", t0 + 59s));
  CHECK_FALSE(rl.blocked("alice", t0 + 60s));
  CHECK_FALSE(rl.blocked("bob", t0 + 20s));  // keys are independent
}

TEST_CASE("failures outside the window do not count") {
  rate_limiter rl({2, 10s});
  auto t0 = clock_type::time_point{} + 1000s;
  rl.record_failure("k", t0);
  rl.record_failure("k", t0 + 11s);
  CHECK_FALSE(rl.blocked("k", t0 + 11s));
  rl.record_failure("k", t0 + 12s);
  CHECK(rl.blocked("k", t0 + 12s));
}

TEST_CASE("reset clears a key") {
  rate_limiter rl({1, 60s});
  auto t0 = clock_type::time_point{} + 1000s;
  rl.record_failure("k", t0);
  CHECK(rl.blocked("k", t0));
  rl.reset("k");
  CHECK_FALSE(rl.blocked("k", t0));
}

TEST_CASE("the table is bounded: a flood of keys does not grow it") {
  rate_limiter rl({5, 60s}, 100);
  auto t0 = clock_type::time_point{} + 1000s;
  for (int i = 0; i < 10000; ++i)
    rl.record_failure("user" + std::to_string(i), t0 + std::chrono::milliseconds(i));
  CHECK(rl.size() <= 100);
  // The most recent keys survive; expired ones go first when room is needed.
  for (int i = 0; i < 4; ++i) rl.record_failure("user9999", t0 + 20s);
  CHECK(rl.blocked("user9999", t0 + 20s));
}
