// broker_placement: placement latency and rate of `create-container` on `req/any/` with 1,000
// simulated hosts, through the broker's own code without sockets, side by side for directories
// holding different numbers of containers (issue 13: with 30 containers per host, 30,000 in all,
// placement must be as fast as with none). One broker_core per fill (real RocksDB in a temporary
// directory) receives 1,000 `register` and 1,000 `inventory` announcements (N running containers
// each, 3 regions, 5 images); then each request kind goes through
// broker_core::on_shared_request -- the call the hub makes: build the fleet from the directory,
// parse, filter, place, build the re-published envelopes. The fills take turns in rounds of 100
// requests per kind, so load from other jobs lands on all of them alike. fleet() and place() are
// also timed alone. Prints p50 / p99 / max in microseconds per fill and kind, then the rate over
// all kinds per fill (requests / summed time) and its ratio to the first fill.
// Usage: bench_broker_placement [--hosts N] [--requests N] [--fills 0,30]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
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

void feed(broker::broker_core& core, int hosts, int per_host) {
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
    for (int c = 0; c < per_host; ++c)
      containers.push_back({{"id", "c" + std::to_string(h) + "x" + std::to_string(c)},
                            {"name", "n" + std::to_string(h) + "-" + std::to_string(c)},
                            {"image", images[(h + c) % 5]},
                            {"state", "running"},
                            {"memory_limit", 256LL << 20}});
    (void)core.on_announcement(
        message(std::string(dm_names::inventory),
                {{"fqdn", fqdn}, {"incarnation", 1}, {"sequence", 2}, {"containers", containers}},
                fqdn),
        0);
  }
}

void report(const std::string& what, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(q * us.size()))];
  };
  std::printf("  %-52s p50 %8.1f us   p99 %8.1f us   max %8.1f us\n", what.c_str(), at(0.5),
              at(0.99), us.back());
}

void time_into(std::vector<double>& us, int n, const std::function<void()>& fn) {
  for (int i = 0; i < n; ++i) {
    auto t0 = clock_type::now();
    fn();
    us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
  }
}

struct kind {
  const char* name;
  json body;
};

std::vector<kind> request_kinds() {
  return {
      {"spread, 1 instance", {{"image", "local/busybox:latest"}}},
      {"constraints region==eu,disk!=hdd",
       {{"image", "x"}, {"constraints", {"region==eu", "disk!=hdd"}}}},
      {"unique (image on no host yet)", {{"image", "memcached"}, {"unique", true}}},
      {"binpack, memory 512 MiB",
       {{"image", "x"}, {"strategy", "binpack"}, {"memory", 512LL << 20}}},
      {"random", {{"image", "x"}, {"strategy", "random"}}},
      {"spread, 10 instances (fan-out)", {{"image", "x"}, {"instances", 10}}},
  };
}

// One directory filled with `per_host` containers per host, and its timings.
struct fill {
  int per_host;
  std::unique_ptr<broker::broker_core> core;
  std::vector<std::vector<double>> us;  // per kind
};

std::vector<int> parse_fills(const std::string& list) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    out.push_back(std::stoi(list.substr(start, comma - start)));
    start = comma + 1;
  }
  return out;
}

std::string label(const fill& f, int hosts) {
  return std::to_string(f.per_host * hosts) + " placed";
}

void run_rounds(std::vector<fill>& fills, const std::vector<kind>& kinds, int requests) {
  const int batch = 100;
  for (int done = 0; done < requests; done += batch)
    for (std::size_t k = 0; k < kinds.size(); ++k)
      for (auto& f : fills)
        time_into(f.us[k], std::min(batch, requests - done), [&] {
          auto out = f.core->on_shared_request(
              message(std::string(dm_names::create_container), kinds[k].body, "ctl-bench"), 0);
          if (out.empty() || out[0].env.code >= 400) std::abort();
        });
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The rate at the median cost of each kind (one request of every kind per round): medians, so a
// stall caused by another job on this shared machine does not decide the ratio. The mean-based
// rate is printed beside it.
void report_rates(const std::vector<fill>& fills, int hosts) {
  double base = 0;
  for (const auto& f : fills) {
    double median_us = 0, total_us = 0;
    std::size_t n = 0;
    for (const auto& k : f.us) {
      median_us += median(k);
      for (double u : k) total_us += u;
      n += k.size();
    }
    double rate = f.us.size() / (median_us / 1e6);
    if (base == 0) base = rate;
    std::printf(
        "rate %d hosts, %d containers placed: %.0f requests/s at the median (%.0f at the "
        "mean over %zu requests), %.3fx of the first\n",
        hosts, f.per_host * hosts, rate, n / (total_us / 1e6), n, rate / base);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int hosts = 1000, requests = 1000;
  std::string fill_list = "0,30";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--hosts") hosts = std::stoi(argv[i + 1]);
    if (a == "--requests") requests = std::stoi(argv[i + 1]);
    if (a == "--fills") fill_list = argv[i + 1];
  }
  common::set_log_level(common::log_level::error);
  auto dir =
      std::filesystem::temp_directory_path() / ("broker-placement-" + std::to_string(getpid()));
  auto kinds = request_kinds();
  std::vector<fill> fills;
  for (int per_host : parse_fills(fill_list)) {
    auto sub = dir / std::to_string(per_host);
    std::filesystem::create_directories(sub);
    std::ofstream(sub / "authorized_keys") << "# none\n";
    broker::broker_settings s;
    s.data_dir = (sub / "data").string();
    s.authorized_keys_file = (sub / "authorized_keys").string();
    fill f{per_host,
           std::make_unique<broker::broker_core>(s, common::generate_keypair().public_key, 0),
           std::vector<std::vector<double>>(kinds.size())};
    auto t0 = clock_type::now();
    feed(*f.core, hosts, per_host);
    std::printf("fed %d hosts (%zu containers) in %.0f ms\n", hosts, f.core->containers().size(),
                std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    fills.push_back(std::move(f));
  }
  std::printf("placement through broker_core::on_shared_request, %d hosts, %d requests each:\n",
              hosts, requests);
  run_rounds(fills, kinds, requests);
  for (auto& f : fills)
    for (std::size_t k = 0; k < kinds.size(); ++k)
      report(label(f, hosts) + ": " + kinds[k].name, f.us[k]);
  for (auto& f : fills) {
    std::vector<double> fleet_us, place_us;
    time_into(fleet_us, requests, [&] { (void)f.core->fleet(); });
    report(label(f, hosts) + ": fleet() alone (directory -> candidates)", fleet_us);
    const auto& fleet = f.core->fleet();
    auto req = broker::parse_placement_request({{"image", "x"}}).value();
    std::mt19937_64 rng(1);
    time_into(place_us, requests, [&] { (void)broker::place(fleet, req, rng); });
    report(label(f, hosts) + ": place() alone (spread)", place_us);
  }
  report_rates(fills, hosts);
  fills.clear();
  std::filesystem::remove_all(dir);
  return 0;
}
