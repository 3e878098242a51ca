// bench_footprint: what the agent (and the broker, and the bridge when given) cost while idle:
// RSS and CPU over a quiet window (default 60 s) with 20 running containers on the host. The
// containers are made directly on the Docker API (so the window holds no request), the window
// starts once the broker's directory lists them all (the agent has seen and announced them), and
// they are removed at the end. CPU is read from /proc/<pid>/stat, RSS from /proc/<pid>/status.
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_support.hpp"
#include "bench/http_client.hpp"
#include "bench/mesh_client.hpp"

namespace {

using namespace dockmesh;
using namespace dockmesh::bench;
namespace po = boost::program_options;
using nlohmann::json;
using std::chrono::milliseconds;

std::vector<std::string> make_containers(http_client& docker, const std::string& image,
                                         const std::string& prefix, int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    json body = {
        {"Image", image}, {"Cmd", {"sleep", "3600"}}, {"HostConfig", {{"NetworkMode", "none"}}}};
    auto c =
        docker.call("POST", "/containers/create?name=" + prefix + std::to_string(i), body.dump());
    if (!c || c->status != 201)
      throw std::runtime_error("create failed: " + (c ? c->body : c.err().message));
    ids.push_back(json::parse(c->body).value("Id", ""));
    auto s = docker.call("POST", "/containers/" + ids.back() + "/start");
    if (!s || s->status != 204) throw std::runtime_error("start failed");
  }
  return ids;
}

// Until the directory holds `count` running containers named with `prefix` on `fqdn`.
bool wait_listed(mesh_client& mesh, const std::string& fqdn, const std::string& prefix, int count) {
  auto deadline = steady::now() + std::chrono::seconds(60);
  while (steady::now() < deadline) {
    auto r = mesh.control("containers", {{"host", fqdn}}, milliseconds(3000));
    int seen = 0;
    if (r && r->code == 200)
      for (const auto& c : r->body.value("containers", json::array()))
        if (c.value("name", "").rfind(prefix, 0) == 0 && c.value("state", "") == "running") ++seen;
    if (seen >= count) return true;
    std::this_thread::sleep_for(milliseconds(200));
  }
  return false;
}

struct watched {
  std::string name;
  pid_t pid;
  proc_usage first, last;
  std::int64_t rss_max_kb = 0;
};

int run(const po::variables_map& vm) {
  std::string fqdn = vm["fqdn"].as<std::string>();
  int count = vm["containers"].as<int>();
  double seconds = vm["seconds"].as<double>();
  zmq::context_t ctx(1);
  mesh_client mesh(ctx,
                   mesh_options_from(vm, "bench-idle-" + common::new_message_id().substr(0, 8)));
  http_client docker(vm["docker-socket"].as<std::string>(), "http://docker");
  std::vector<watched> procs;
  for (const char* n : {"agent", "broker", "bridge"})
    if (vm.count(std::string(n) + "-pid"))
      procs.push_back({n, vm[std::string(n) + "-pid"].as<pid_t>(), {}, {}, 0});
  std::string prefix = "bench-idle-" + common::new_message_id().substr(0, 6) + "-";
  std::vector<std::string> ids;
  int rc = 0;
  try {
    ids = make_containers(docker, vm["image"].as<std::string>(), prefix, count);
    if (!wait_listed(mesh, fqdn, prefix, count))
      throw std::runtime_error("the directory did not list the " + std::to_string(count) +
                               " containers within 60 s");
    std::cout << count << " containers running and listed; sampling for " << seconds << " s"
              << std::endl;
    for (auto& p : procs) p.first = read_proc_usage(p.pid);
    auto t0 = steady::now();
    while (ms_between(t0, steady::now()) < seconds * 1000) {
      std::this_thread::sleep_for(milliseconds(500));
      for (auto& p : procs) p.rss_max_kb = std::max(p.rss_max_kb, read_proc_usage(p.pid).rss_kb);
    }
    double window = ms_between(t0, steady::now()) / 1000;
    for (auto& p : procs) {
      p.last = read_proc_usage(p.pid);
      double pct = 100 * cores_used(p.first, p.last, window);
      bool ok = p.first.ok && p.last.ok;
      bool agent = p.name == "agent";
      std::string note = "window " + fixed(window, 0) + " s, " + std::to_string(count) +
                         " containers; threads " + std::to_string(p.last.threads);
      print_figure({"idle: " + p.name + " RSS (max)", with_unit(p.rss_max_kb / 1024.0, 1, "MB"),
                    "-", "-", agent ? "<= 20 MB" : "-",
                    !ok     ? "ERROR"
                    : agent ? pass_fail(p.rss_max_kb <= 20 * 1024)
                            : "info",
                    note});
      print_figure(
          {"idle: " + p.name + " CPU", with_unit(pct, 3, "%"), "-", "-", agent ? "<= 0.5%" : "-",
           !ok     ? "ERROR"
           : agent ? pass_fail(pct <= 0.5)
                   : "info",
           "of one core; " + fixed(p.last.cpu_seconds - p.first.cpu_seconds, 2) + " CPU s"});
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_footprint: " << e.what() << "\n";
    print_figure({"idle: agent RSS (max)", "-", "-", "-", "<= 20 MB", "ERROR", e.what()});
    rc = 1;
  }
  for (const auto& id : ids) (void)docker.call("DELETE", "/containers/" + id + "?force=1&v=1");
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("bench_footprint options");
  add_mesh_options(opts);
  opts.add_options()("help", "this text")(
      "fqdn", po::value<std::string>()->default_value("host1.mesh.test"), "the agent's host")(
      "docker-socket", po::value<std::string>()->required(), "that host's Docker socket")(
      "image", po::value<std::string>()->default_value("local/busybox:latest"), "image")(
      "containers", po::value<int>()->default_value(20), "running containers during the window")(
      "seconds", po::value<double>()->default_value(60), "length of the idle window")(
      "agent-pid", po::value<pid_t>(), "the agent")("broker-pid", po::value<pid_t>(), "the broker")(
      "bridge-pid", po::value<pid_t>(), "the bridge");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, opts), vm);
    if (vm.count("help")) {
      std::cout << opts;
      return 0;
    }
    po::notify(vm);
    return run(vm);
  } catch (const std::exception& e) {
    std::cerr << "bench_footprint: " << e.what() << "\n";
    return 1;
  }
}
