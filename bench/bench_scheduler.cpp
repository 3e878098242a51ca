// bench_scheduler: placement latency of `create-container` on `req/any/` at 1,000 hosts, through
// the broker's own code with no sockets: a broker_core (real RocksDB in a temporary directory)
// is fed 1,000 `register` and `inventory` announcements, then scheduled requests go through
// broker_core::on_shared_request -- the same call the hub makes: build the fleet from the
// directory, parse, place, publish. Separately, scheduler::place alone on a ready fleet, so the
// two costs can be told apart. No target in DESIGN.md: the figures are informational.
#include <iostream>
#include <random>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_support.hpp"
#include "broker/broker_core.hpp"
#include "broker/scheduler.hpp"
#include "common/log.hpp"

namespace {

using namespace dockmesh;
using namespace dockmesh::bench;
namespace po = boost::program_options;
using nlohmann::json;

const char* regions[] = {"eu", "us", "ap"};
const char* images[] = {"nginx:latest", "redis:7", "local/busybox:latest", "postgres:15", "app:1"};

common::envelope announcement(const std::string& action, json body, const std::string& fqdn) {
  common::envelope e;
  e.id = common::new_message_id();
  e.action = action;
  e.from = fqdn;
  e.body = std::move(body);
  return e;
}

// 1,000 hosts with labels, memory and a few containers each, announced as agents would.
void feed_fleet(broker::broker_core& core, int hosts, std::mt19937_64& rng) {
  std::int64_t now = common::now_ms();
  for (int i = 0; i < hosts; ++i) {
    std::string fqdn = "sched-" + std::to_string(i) + ".bench.test";
    int running = static_cast<int>(rng() % 20);
    json reg = {{"fqdn", fqdn}, {"incarnation", now}, {"sequence", 1}, {"docker_up", true},
                {"cpus", 8}, {"memory_bytes", std::int64_t(8 + rng() % 56) << 30},
                {"labels", {{"region", regions[i % 3]}, {"disk", i % 4 ? "ssd" : "hdd"}}},
                {"containers_running", running}, {"containers_total", running}};
    (void)core.on_announcement(announcement("register", reg, fqdn), now);
    json list = json::array();
    for (int c = 0; c < running; ++c)
      list.push_back({{"id", common::new_message_id() + common::new_message_id()},
                      {"name", fqdn + "-c" + std::to_string(c)}, {"image", images[rng() % 5]},
                      {"state", "running"}, {"created", now / 1000}, {"owner", "bench"},
                      {"memory_limit", std::int64_t(256) << 20}});
    json inv = {{"fqdn", fqdn}, {"incarnation", now}, {"sequence", 2}, {"containers", list}};
    (void)core.on_announcement(announcement("inventory", inv, fqdn), now);
  }
}

struct scenario {
  std::string name;
  json body;
};

std::vector<scenario> scenarios() {
  return {{"spread", {{"image", "local/busybox:latest"}}},
          {"binpack+memory", {{"image", "local/busybox:latest"}, {"strategy", "binpack"},
                              {"memory", std::int64_t(512) << 20}}},
          {"constraints+unique", {{"image", "redis:7"}, {"constraints", {"region==eu", "disk!=hdd"}},
                                  {"unique", true}}},
          {"spread x10 instances", {{"image", "local/busybox:latest"}, {"instances", 10}}}};
}

void run_scenario(broker::broker_core& core, const scenario& s, int calls, int hosts) {
  std::vector<double> ms;
  std::uint64_t failed = 0;
  for (int i = 0; i < calls; ++i) {
    common::envelope req;
    req.id = common::new_message_id();
    req.action = "create-container";
    req.from = "bench-sched";
    req.reply_to = "rep/bench-sched/";
    req.user = "bench";
    req.role = "admin";
    req.body = s.body;
    auto t0 = steady::now();
    auto out = core.on_shared_request(req, common::now_ms());
    ms.push_back(ms_between(t0, steady::now()));
    if (out.empty() || out.front().topic.rfind("req/host/", 0) != 0) ++failed;
  }
  auto sum = summarize(ms);
  print_figure({"schedule @" + std::to_string(hosts) + " hosts: " + s.name + " p50",
                with_unit(sum.p50, 3, "ms"), "-", "-", "-", failed ? "ERROR" : "info",
                "p99 " + with_unit(sum.p99, 3, "ms") + ", max " + with_unit(sum.max, 3, "ms") +
                    ", n=" + std::to_string(sum.n) + (failed ? ", " + std::to_string(failed) + " not placed" : "") +
                    "; broker_core::on_shared_request (fleet + place + publish)"});
}

void run_place_only(const broker::broker_core& core, int calls, int hosts) {
  std::mt19937_64 rng(7);
  std::vector<double> fleet_ms, place_ms;
  auto req = broker::parse_placement_request({{"image", "local/busybox:latest"}});
  for (int i = 0; i < calls; ++i) {
    auto t0 = steady::now();
    auto fleet = core.fleet();
    auto t1 = steady::now();
    auto placed = broker::place(fleet, *req, rng);
    auto t2 = steady::now();
    fleet_ms.push_back(ms_between(t0, t1));
    place_ms.push_back(ms_between(t1, t2));
  }
  auto f = summarize(fleet_ms), p = summarize(place_ms);
  print_figure({"schedule @" + std::to_string(hosts) + " hosts: place() alone p50", with_unit(p.p50, 3, "ms"),
                "-", "-", "-", "info", "p99 " + with_unit(p.p99, 3, "ms") + "; scheduler::place, spread"});
  print_figure({"schedule @" + std::to_string(hosts) + " hosts: fleet() build p50", with_unit(f.p50, 3, "ms"),
                "-", "-", "-", "info", "p99 " + with_unit(f.p99, 3, "ms") + "; broker_core::fleet from the directory"});
}

int run(const po::variables_map& vm) {
  int hosts = vm["hosts"].as<int>(), calls = vm["calls"].as<int>();
  auto dir = make_temp_dir("dm-bench-sched");
  write_file(dir + "/authorized_keys", "");
  broker::broker_settings settings;
  settings.data_dir = dir + "/db";
  settings.authorized_keys_file = dir + "/authorized_keys";
  common::set_log_level(common::log_level::warn);
  {
    broker::broker_core core(settings, common::generate_keypair().public_key, common::now_ms());
    std::mt19937_64 rng(42);
    feed_fleet(core, hosts, rng);
    std::cout << "directory: " << core.hosts().hosts().size() << " hosts, " << core.containers().size()
              << " containers; " << calls << " placements per scenario" << std::endl;
    for (const auto& s : scenarios()) run_scenario(core, s, calls, hosts);
    run_place_only(core, calls, hosts);
  }
  remove_tree(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("bench_scheduler options");
  opts.add_options()("help", "this text")("hosts", po::value<int>()->default_value(1000), "fleet size")(
      "calls", po::value<int>()->default_value(1000), "placements per scenario");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, opts), vm);
    if (vm.count("help")) {
      std::cout << opts;
      return 0;
    }
    return run(vm);
  } catch (const std::exception& e) {
    std::cerr << "bench_scheduler: " << e.what() << "\n";
    return 1;
  }
}
