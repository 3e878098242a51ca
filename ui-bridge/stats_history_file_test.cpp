#include "ui-bridge/stats_history_file.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "ui-bridge/test_support.hpp"

using namespace dockmesh::bridge;
using namespace std::chrono_literals;
using dockmesh::bridge::test::temp_dir;

namespace {

constexpr std::int64_t t0 = 1'699'999'800'000;  // a multiple of 5 min, in ms

stats_sample at(std::int64_t t_ms, float cpu, std::int64_t mem) {
  stats_sample s;
  s.t_ms = t_ms;
  s.cpu_percent = cpu;
  s.memory_bytes = mem;
  s.network_rx_bytes = t_ms - t0;
  s.block_write_bytes = 7;
  return s;
}

stats_history_limits small() {
  return stats_history_limits{2h, 10min, 10s, 5min, 3};
}

// Two hours of samples every 3 s: both tiers hold points, some of them merged.
void fill(stats_history& h, const std::string& key, float cpu) {
  for (std::int64_t t = t0; t < t0 + 2 * 3600 * 1000; t += 3000)
    h.add(key, at(t, cpu + static_cast<float>(t % 7), 1000 + (t - t0) / 1000));
}

void check_same(const stats_history& a, const stats_history& b) {
  auto x = a.all_series(), y = b.all_series();
  REQUIRE(x.size() == y.size());
  auto by_key = [](const auto& l, const auto& r) { return l.first < r.first; };
  std::sort(x.begin(), x.end(), by_key);
  std::sort(y.begin(), y.end(), by_key);
  for (std::size_t i = 0; i < x.size(); ++i) {
    CAPTURE(x[i].first);
    CHECK(x[i].first == y[i].first);
    REQUIRE(x[i].second.size() == y[i].second.size());
    for (std::size_t j = 0; j < x[i].second.size(); ++j) {
      const auto &p = x[i].second[j], &q = y[i].second[j];
      CHECK(p.t_ms == q.t_ms);
      CHECK(p.cpu_percent == doctest::Approx(q.cpu_percent));
      CHECK(p.merged == q.merged);
      CHECK(p.memory_bytes == q.memory_bytes);
      CHECK(p.network_rx_bytes == q.network_rx_bytes);
      CHECK(p.block_write_bytes == q.block_write_bytes);
    }
  }
}

}  // namespace

TEST_CASE("a saved history reads back point for point, in both tiers, with merge counts") {
  stats_history containers(small()), hosts(small());
  fill(containers, "c1", 5);
  fill(containers, "c2", 40);
  fill(hosts, "host1.mesh.test", 45);
  REQUIRE(containers.points() > 0);
  std::int64_t now = t0 + 2 * 3600 * 1000;
  auto bytes = encode_stats_histories(containers, hosts, now);
  stats_history c2(small()), h2(small());
  auto r = decode_stats_histories(bytes, c2, h2, now);
  REQUIRE(r);
  CHECK(*r == containers.points() + hosts.points());
  check_same(containers, c2);
  check_same(hosts, h2);
  CHECK(bytes.size() <= max_file_bytes(small()));
  CHECK(bytes.size() < 30 * *r);  // 26.5 bytes a point measured here (small counters)
}

TEST_CASE("the window and the cap of the history reading the file apply") {
  stats_history containers(small()), hosts(small());
  fill(containers, "c1", 5);
  auto bytes = encode_stats_histories(containers, hosts, t0);
  stats_history later(small()), h2(small());
  // Read three hours after the newest point: all of it is older than the 2 h window.
  REQUIRE(decode_stats_histories(bytes, later, h2, t0 + 5 * 3600 * 1000));
  CHECK(later.points() == 0);
  stats_history one(stats_history_limits{2h, 10min, 10s, 5min, 1}), h3(small());
  stats_history three(small());
  fill(three, "a", 1);
  fill(three, "b", 2);
  REQUIRE(decode_stats_histories(encode_stats_histories(three, hosts, t0), one, h3, t0 + 7200000));
  CHECK(one.series() == 1);
}

TEST_CASE("bytes that are not a history file are refused and change nothing") {
  stats_history containers(small()), hosts(small());
  containers.add("kept", at(t0, 1, 1));
  for (std::string bad :
       {std::string("not msgpack at all"), std::string(), std::string("\x81\xa1v\x02", 4)}) {
    auto r = decode_stats_histories(bad, containers, hosts, t0);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == dockmesh::common::errc::malformed);
  }
  // A well-formed file with one bad point (a negative memory figure) is refused whole.
  nlohmann::json doc = {{"v", 1},
                        {"containers", {{"x", {{t0, 1.0, 1, -5, 0, 0, 0, 0}}}}},
                        {"hosts", nlohmann::json::object()}};
  auto bytes = nlohmann::json::to_msgpack(doc);
  CHECK_FALSE(
      decode_stats_histories(std::string(bytes.begin(), bytes.end()), containers, hosts, t0));
  CHECK(containers.series() == 1);
  CHECK(containers.since("kept", 0).size() == 1);
}

TEST_CASE("the file on disk: missing is empty, saved reads back, oversized is refused") {
  temp_dir dir;
  std::string path = dir.path + "/stats-history.msgpack";
  stats_history containers(small()), hosts(small());
  auto none = load_stats_file(path, containers, hosts, t0);
  REQUIRE(none);
  CHECK(*none == 0);
  fill(containers, "c1", 3);
  REQUIRE(save_stats_file(path, containers, hosts, t0));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  stats_history c2(small()), h2(small());
  REQUIRE(load_stats_file(path, c2, h2, t0 + 7200000));
  check_same(containers, c2);
  std::filesystem::resize_file(path, max_file_bytes(small()) + 1);
  auto big = load_stats_file(path, c2, h2, t0);
  REQUIRE_FALSE(big);
  CHECK(big.err().code == dockmesh::common::errc::too_large);
}

TEST_CASE("the keeper writes the file when it stops, and on its period") {
  temp_dir dir;
  std::string path = dir.path + "/stats-history.msgpack";
  stats_history containers(small()), hosts(small());
  containers.add("c1", at(t0, 2, 2));
  {
    stats_history_keeper keeper(path, containers, hosts, 1h);
    keeper.start();
    keeper.stop();
  }
  stats_history c2(small()), h2(small());
  REQUIRE(load_stats_file(path, c2, h2, t0));
  CHECK(c2.points() == 1);
  std::filesystem::remove(path);
  stats_history_keeper fast(path, containers, hosts, 10ms);
  fast.start();
  for (int i = 0; i < 500 && !std::filesystem::exists(path); ++i)
    std::this_thread::sleep_for(10ms);  // polls with a deadline: the period, not a settle
  CHECK(std::filesystem::exists(path));
  fast.stop();
}
