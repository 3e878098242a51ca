// bench_answers: how honest and how quick the mesh's answers are (issue 18).
//   visibility: a create-container acknowledged to its requester is in the directory's
//     `containers` at once: the time from the acknowledgement to the first `containers` answer
//     that lists the new container, minus the time of that one query (target 0 ms: the first
//     query after the acknowledgement already lists it).
//   refusal: a request to a host the directory knows is down is refused by the broker at once:
//     the host's agent is frozen (SIGSTOP) until the directory says `down`, then pings to it are
//     timed until their 503; the agent is thawed (SIGCONT) before the program ends, whatever
//     happened. Also the 404 for a host the directory does not know.
// Every container made is removed at the end. Runs against a mesh from scripts/mesh.sh.
#include <signal.h>

#include <iostream>
#include <thread>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_support.hpp"
#include "bench/mesh_client.hpp"

namespace {

using namespace dockmesh;
using namespace dockmesh::bench;
namespace po = boost::program_options;
using nlohmann::json;
using std::chrono::milliseconds;

bool listed(mesh_client& mesh, const std::string& id) {
  auto r = mesh.control("containers", json::object(), milliseconds(5000));
  if (!r || r->code != 200) return false;
  for (const auto& c : r->body.value("containers", json::array()))
    if (c.value("id", "") == id) return true;
  return false;
}

void visibility(mesh_client& mesh, const std::string& fqdn, int count) {
  std::vector<double> lag_ms, query_ms;
  std::vector<std::string> ids;
  int first_query = 0;
  std::string error;
  for (int i = 0; i < count && error.empty(); ++i) {
    json body = {
        {"image", "local/busybox:latest"}, {"cmd", {"sleep", "60"}}, {"network_mode", "none"}};
    auto r = mesh.to_host(fqdn, "create-container", body, milliseconds(60000));
    auto acked = steady::now();
    if (!r || r->code != 201) {
      error = r ? "create answered " + std::to_string(r->code) : r.err().message;
      break;
    }
    std::string id = r->body.value("id", "");
    ids.push_back(id);
    for (int q = 0;; ++q) {
      auto asked = steady::now();
      bool seen = listed(mesh, id);
      auto answered = steady::now();
      if (seen) {
        first_query += q == 0;
        lag_ms.push_back(ms_between(acked, asked));
        query_ms.push_back(ms_between(asked, answered));
        break;
      }
      if (ms_between(acked, answered) > 10000) {
        error = "container " + id + " not listed 10 s after its acknowledgement";
        break;
      }
    }
  }
  for (const auto& id : ids)
    (void)mesh.to_host(fqdn, "remove-container", {{"id", id}, {"force", true}},
                       milliseconds(30000));
  auto lag = summarize(lag_ms), q = summarize(query_ms);
  std::string note = std::to_string(first_query) + " of " + std::to_string(lag.n) +
                     " listed by the first query after the acknowledgement; that query p50 " +
                     with_unit(q.p50, 2, "ms") + "; lag p50 " + with_unit(lag.p50, 2, "ms");
  if (!error.empty()) note += "; " + error;
  print_figure(
      {"create acknowledged -> listed in containers (max over " + std::to_string(count) + ")",
       with_unit(lag.max, 2, "ms"), "-", "-", "0 ms (first query lists it)",
       error.empty() ? pass_fail(first_query == static_cast<int>(lag.n)) : "ERROR", note});
}

std::string host_status(mesh_client& mesh, const std::string& fqdn) {
  auto r = mesh.control("host", {{"fqdn", fqdn}}, milliseconds(3000));
  return r && r->code == 200 ? r->body.value("status", "") : "";
}

void refusals(mesh_client& mesh, const std::string& fqdn, pid_t agent, int count) {
  std::vector<double> down_ms, unknown_ms;
  std::string error;
  for (int i = 0; i < count; ++i) {
    auto t0 = steady::now();
    auto r = mesh.to_host("nohost.bench.test", "ping", json::object(), milliseconds(10000));
    if (r && r->code == 404) unknown_ms.push_back(ms_between(t0, steady::now()));
  }
  ::kill(agent, SIGSTOP);
  auto frozen = steady::now();
  while (host_status(mesh, fqdn) != "down" && ms_between(frozen, steady::now()) < 15000)
    std::this_thread::sleep_for(milliseconds(50));
  double detect_ms = ms_between(frozen, steady::now());
  for (int i = 0; i < count; ++i) {
    auto t0 = steady::now();
    auto r = mesh.to_host(fqdn, "ping", json::object(), milliseconds(10000));
    double ms = ms_between(t0, steady::now());
    if (r && r->code == 503)
      down_ms.push_back(ms);
    else
      error = r ? "answered " + std::to_string(r->code) : r.err().message;
  }
  ::kill(agent, SIGCONT);
  auto d = summarize(down_ms), u = summarize(unknown_ms);
  print_figure({"request to a down host -> 503 (p50)", with_unit(d.p50, 2, "ms"), "-", "-",
                "< 100 ms", error.empty() ? pass_fail(d.n > 0 && d.max < 100) : "ERROR",
                "p99 " + with_unit(d.p99, 2, "ms") + ", max " + with_unit(d.max, 2, "ms") + ", " +
                    std::to_string(d.n) + " requests; host marked down " +
                    with_unit(detect_ms, 0, "ms") + " after its agent froze" +
                    (error.empty() ? "" : "; " + error)});
  print_figure({"request to an unknown host -> 404 (p50)", with_unit(u.p50, 2, "ms"), "-", "-",
                "< 100 ms", pass_fail(u.n == static_cast<std::size_t>(count) && u.max < 100),
                "max " + with_unit(u.max, 2, "ms") + ", " + std::to_string(u.n) + " requests"});
}

int run(const po::variables_map& vm) {
  zmq::context_t ctx(1);
  mesh_client mesh(ctx,
                   mesh_options_from(vm, "bench-answers-" + common::new_message_id().substr(0, 8)));
  std::string fqdn = vm["fqdn"].as<std::string>();
  visibility(mesh, fqdn, vm["count"].as<int>());
  if (vm.count("agent-pid")) refusals(mesh, fqdn, vm["agent-pid"].as<int>(), vm["count"].as<int>());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("bench_answers options");
  add_mesh_options(opts);
  opts.add_options()("help", "this text")(
      "fqdn", po::value<std::string>()->default_value("host1.mesh.test"), "the agent's host")(
      "agent-pid", po::value<int>(), "that host's agent (frozen for the refusal figure)")(
      "count", po::value<int>()->default_value(20), "creates, and requests per refusal figure");
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
    std::cerr << "bench_answers: " << e.what() << "\n";
    return 1;
  }
}
