// broker_placement: placement latency of `create-container` on `req/any/` with 1,000 simulated
// hosts, through the broker's own code without sockets. A broker_core (real RocksDB in a
// temporary directory) receives 1,000 `register` and 1,000 `inventory` announcements (10
// containers each, 3 regions, 5 images); then each request kind goes through
// broker_core::on_shared_request -- the call the hub makes: build the fleet from the directory,
// parse, filter, place, build the re-published envelopes. fleet() and place() are also timed
// alone. Prints p50 / p99 / max in microseconds.
// Usage: bench_broker_placement [--hosts N] [--requests N]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <vector>

#include "broker/broker_core.hpp"
#include "common/log.hpp"
#include "common/protocol/names.hpp"

namespace dm_names = dockmesh::common::protocol::names;

namespace {

using namespace dockmesh;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

const char* regions[] = {"eu", "us", "ap"};
const char* images[] = {"nginx:latest", "redis:7", "local/busybox:latest", "postgres:15", "app:1"};

common::envelope message(std::string action, json body, std::string from) {
  common::envelope e;
  e.id = common::new_message_id();
  e.action = std::move(action);
  e.from = std::move(from);
  e.reply_to = "rep/ctl-bench/";
  e.body = std::move(body);
  return e;
}

void feed(broker::broker_core& core, int hosts) {
  for (int h = 0; h < hosts; ++h) {
    std::string fqdn = "host" + std::to_string(h) + ".mesh.test";
    json labels = {{"region", regions[h % 3]}, {"disk", h % 2 ? "ssd" : "hdd"}};
    (void)core.on_announcement(message(std::string(dm_names::register_host),
                                       {{"fqdn", fqdn},
                                        {"incarnation", 1},
                                        {"sequence", 1},
                                        {"docker_up", true},
                                        {"memory_bytes", 16LL << 30},
                                        {"cpus", 8},
                                        {"labels", labels}},
                                       fqdn),
                               0);
    json containers = json::array();
    for (int c = 0; c < 10; ++c)
      containers.push_back({{"id", "c" + std::to_string(h) + "x" + std::to_string(c)},
                            {"name", "n" + std::to_string(c)},
                            {"image", images[(h + c) % 5]},
                            {"state", c % 4 ? "running" : "exited"},
                            {"memory_limit", 256LL << 20}});
    (void)core.on_announcement(
        message(std::string(dm_names::inventory),
                {{"fqdn", fqdn}, {"incarnation", 1}, {"sequence", 2}, {"containers", containers}},
                fqdn),
        0);
  }
}

void report(const char* what, std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(q * us.size()))];
  };
  std::printf("  %-40s p50 %8.1f us   p99 %8.1f us   max %8.1f us\n", what, at(0.5), at(0.99),
              us.back());
}

std::vector<double> time_it(int n, const std::function<void(int)>& fn) {
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    auto t0 = clock_type::now();
    fn(i);
    us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
  }
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  int hosts = 1000, requests = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--hosts") hosts = std::stoi(argv[i + 1]);
    if (a == "--requests") requests = std::stoi(argv[i + 1]);
  }
  common::set_log_level(common::log_level::error);
  auto dir =
      std::filesystem::temp_directory_path() / ("broker-placement-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "authorized_keys") << "# none\n";
  broker::broker_settings s;
  s.data_dir = (dir / "data").string();
  s.authorized_keys_file = (dir / "authorized_keys").string();
  {
    broker::broker_core core(s, common::generate_keypair().public_key, 0);
    auto t0 = clock_type::now();
    feed(core, hosts);
    std::printf("fed %d hosts (%zu containers) in %.0f ms\n", hosts, core.containers().size(),
                std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    struct kind {
      const char* name;
      json body;
    };
    std::vector<kind> kinds{
        {"spread, 1 instance", {{"image", "local/busybox:latest"}}},
        {"constraints region==eu,disk!=hdd",
         {{"image", "x"}, {"constraints", {"region==eu", "disk!=hdd"}}}},
        {"unique (image on no host yet)", {{"image", "memcached"}, {"unique", true}}},
        {"binpack, memory 512 MiB",
         {{"image", "x"}, {"strategy", "binpack"}, {"memory", 512LL << 20}}},
        {"random", {{"image", "x"}, {"strategy", "random"}}},
        {"spread, 10 instances (fan-out)", {{"image", "x"}, {"instances", 10}}},
    };
    std::printf("placement through broker_core::on_shared_request, %d hosts, %d requests each:\n",
                hosts, requests);
    for (auto& k : kinds) {
      auto us = time_it(requests, [&](int) {
        auto out = core.on_shared_request(
            message(std::string(dm_names::create_container), k.body, "ctl-bench"), 0);
        if (out.empty() || out[0].env.code >= 400) std::abort();
      });
      report(k.name, us);
    }
    auto fleet_us = time_it(requests, [&](int) { (void)core.fleet(); });
    report("fleet() alone (directory -> candidates)", fleet_us);
    auto fleet = core.fleet();
    auto req = broker::parse_placement_request({{"image", "x"}}).value();
    std::mt19937_64 rng(1);
    auto place_us = time_it(requests, [&](int) { (void)broker::place(fleet, req, rng); });
    report("place() alone (spread)", place_us);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
