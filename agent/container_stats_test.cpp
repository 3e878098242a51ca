#include "agent/container_stats.hpp"

#include <doctest/doctest.h>

#include "agent/recorded_docker.hpp"

using dockmesh::agent::summarize_stats;
using nlohmann::json;

TEST_CASE("stats summary from a recorded cgroup v1 sample") {
  json s = summarize_stats(json::parse(dockmesh::agent::testing::testdata("container_stats.json")));
  CHECK(s["memory_limit"] == 67108864);
  CHECK(s["memory_usage"] == 1024000 - 151552);  // usage minus inactive file pages
  CHECK(s["online_cpus"] == 2);
  CHECK(s["cpu_percent"] == 0.0);  // idle between the two samples
  CHECK(s["pids"] == 1);
  CHECK(s["network_rx_bytes"] == 0);
  CHECK(s["read"] == "2026-11-22T16:07:23.099912145Z");
}

TEST_CASE("stats summary: CPU %, I/O sums, and nothing thrown on odd documents") {
  json s = {
      {"cpu_stats",
       {{"cpu_usage", {{"total_usage", 3000}}}, {"system_cpu_usage", 20000}, {"online_cpus", 4}}},
      {"precpu_stats", {{"cpu_usage", {{"total_usage", 1000}}}, {"system_cpu_usage", 10000}}},
      {"networks",
       {{"eth0", {{"rx_bytes", 10}, {"tx_bytes", 20}}},
        {"eth1", {{"rx_bytes", 1}, {"tx_bytes", 2}}}}},
      {"blkio_stats",
       {{"io_service_bytes_recursive",
         {{{"op", "Read"}, {"value", 7}}, {{"op", "write"}, {"value", 9}}}}}}};
  json out = summarize_stats(s);
  CHECK(out["cpu_percent"] == 80.0);  // 2000/10000 * 4 CPUs
  CHECK(out["network_rx_bytes"] == 11);
  CHECK(out["network_tx_bytes"] == 22);
  CHECK(out["block_read_bytes"] == 7);
  CHECK(out["block_write_bytes"] == 9);
  CHECK(out["memory_percent"] == 0.0);
  for (json odd : {json::object(), json{{"cpu_stats", "x"}}, json{{"networks", {{"eth0", 5}}}},
                   json{{"blkio_stats", {{"io_service_bytes_recursive", {1, 2}}}}},
                   json{{"cpu_stats", {{"online_cpus", 0}}}}})
    CHECK_NOTHROW(summarize_stats(odd));
}
