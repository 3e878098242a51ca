#include "ui-bridge/stats_history.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::bridge;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t t0 = 1'699'999'800'000;  // a multiple of 5 min, in ms

stats_sample at(std::int64_t t_ms, float cpu, std::int64_t mem = 0, std::int64_t rx = 0) {
  stats_sample s;
  s.t_ms = t_ms;
  s.cpu_percent = cpu;
  s.memory_bytes = mem;
  s.network_rx_bytes = rx;
  return s;
}

stats_history_limits day() {
  return stats_history_limits{24h, 1h, 10s, 5min, 4};
}

}  // namespace

TEST_CASE("samples inside one fine step merge: CPU and memory averaged, counters the latest") {
  stats_history h(day());
  CHECK(h.add("c1", at(t0, 10, 100, 5)));
  CHECK(h.add("c1", at(t0 + 3000, 20, 300, 9)));
  CHECK(h.add("c1", at(t0 + 12000, 50, 0, 12)));
  auto s = h.since("c1", 0);
  REQUIRE(s.size() == 2);
  CHECK(s[0].cpu_percent == doctest::Approx(15));
  CHECK(s[0].memory_bytes == 200);
  CHECK(s[0].network_rx_bytes == 9);
  CHECK(s[0].merged == 2);
  CHECK(s[0].t_ms == t0 + 3000);
  CHECK(s[1].cpu_percent == doctest::Approx(50));
  CHECK(h.since("c1", t0 + 5000).size() == 1);  // ?since= filters by time
  CHECK(h.since("nobody", 0).empty());
}

TEST_CASE("past the fine span points fold into 5-minute buckets; past the window they go") {
  stats_history h(day());
  // One sample every 10 s for 3 hours: 1 h fine (361 points at most), 2 h coarse (24-25).
  for (std::int64_t t = 0; t <= 3 * 3600 * 1000; t += 10'000) h.add("c", at(t0 + t, 1));
  auto s = h.since("c", 0);
  CHECK(s.size() <= 361 + 26);
  CHECK(s.size() >= 360 + 24);
  CHECK(s.front().merged == 30);  // 5 min of 10 s samples in one coarse point
  // Strictly increasing time, oldest first.
  for (std::size_t i = 1; i < s.size(); ++i) CHECK(s[i - 1].t_ms < s[i].t_ms);
  // 25 hours later with no new sample: prune drops it all, and the series.
  h.prune(t0 + 28LL * 3600 * 1000);
  CHECK(h.series() == 0);
  CHECK(h.points() == 0);
}

TEST_CASE("a series never holds more than max_points, whatever the rate; the byte bound holds") {
  stats_history h(day());
  CHECK(h.max_points() == 361 + 278);
  CHECK(sizeof(stats_sample) == 56);
  CHECK(h.bound_bytes() == 4 * h.max_points() * sizeof(stats_sample));
  // A sample every second for 26 hours, into 4 series (the cap), then a fifth.
  for (std::int64_t t = 0; t <= 26LL * 3600 * 1000; t += 1000)
    for (const char* k : {"a", "b", "c", "d"}) h.add(k, at(t0 + t, 2));
  CHECK(h.series() == 4);
  CHECK(h.points() <= 4 * h.max_points());
  CHECK(h.memory_bytes() <= h.bound_bytes());
  auto s = h.since("a", 0);
  CHECK(s.front().t_ms > t0 + 2LL * 3600 * 1000);  // nothing older than the 24 h window
}

TEST_CASE("the cap on series evicts the one updated longest ago; retain forgets the unlisted") {
  stats_history h(day());
  h.add("a", at(t0 + 4000, 1));
  h.add("b", at(t0 + 1000, 1));  // updated longest ago
  h.add("c", at(t0 + 2000, 1));
  h.add("d", at(t0 + 3000, 1));
  h.add("e", at(t0 + 5000, 1));
  CHECK(h.series() == 4);
  CHECK(h.since("b", 0).empty());
  CHECK_FALSE(h.since("e", 0).empty());
  h.retain({"a", "e"});
  CHECK(h.series() == 2);
  CHECK(h.since("c", 0).empty());
}

TEST_CASE("a late sample is dropped; bad limits are refused") {
  stats_history h(day());
  CHECK(h.add("c", at(t0 + 20000, 1)));
  CHECK_FALSE(h.add("c", at(t0 + 10000, 1)));
  CHECK(h.since("c", 0).size() == 1);
  CHECK_THROWS_AS(stats_history({1h, 2h, 10s, 5min, 4}), std::invalid_argument);
  CHECK_THROWS_AS(stats_history({1h, 1h, 0s, 5min, 4}), std::invalid_argument);
  CHECK_THROWS_AS(stats_history({1h, 1h, 10s, 5min, 0}), std::invalid_argument);
}

TEST_CASE("a container-stats reply becomes a sample; odd values read as 0") {
  nlohmann::json body = {{"cpu_percent", 12.5},    {"memory_usage", 1048576},
                         {"network_rx_bytes", 10}, {"network_tx_bytes", "x"},
                         {"block_read_bytes", -5}, {"block_write_bytes", 7}};
  auto s = sample_from_reply(body, t0);
  CHECK(s.cpu_percent == doctest::Approx(12.5));
  CHECK(s.memory_bytes == 1048576);
  CHECK(s.network_rx_bytes == 10);
  CHECK(s.network_tx_bytes == 0);
  CHECK(s.block_read_bytes == 0);
  CHECK(s.block_write_bytes == 7);
  auto j = to_json(s);
  CHECK(j["t"] == t0);
  CHECK(j["memory_bytes"] == 1048576);
}
