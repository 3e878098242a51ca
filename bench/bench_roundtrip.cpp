// bench_roundtrip: `ping` round trips against an existing mesh (scripts/mesh.sh up), side by
// side with the direct Docker call it ends in. Three ways, interleaved in short rounds so that
// machine noise falls on all of them:
//   direct  libcurl GET /_ping on the host's Docker socket (one kept-alive handle)
//   bus     bus client -> broker -> agent -> dockerd /_ping -> agent -> broker -> bus client
//   bridge  HTTP keep-alive POST /api/v1/messages {"action":"ping","host":...} with an admin
//           token -> bridge -> broker -> agent -> dockerd and back
// Reports p50/p99/p999 of each and the overhead over direct (targets: p50 <= 0.5 ms, p99 <= 2 ms).
#include <functional>
#include <iostream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_support.hpp"
#include "bench/http_client.hpp"
#include "bench/mesh_client.hpp"
#include "common/protocol/names.hpp"

namespace dm_names = dockmesh::common::protocol::names;

namespace {

using namespace dockmesh;
using namespace dockmesh::bench;
namespace po = boost::program_options;
using nlohmann::json;
using std::chrono::milliseconds;

struct way {
  way(std::string n, std::function<bool()> f) : name(std::move(n)), once(std::move(f)) {}
  std::string name;
  std::function<bool()> once;  // one round trip; false on a wrong answer
  std::vector<double> ms;
  std::uint64_t errors = 0;
  std::string last_error;
};

std::string bridge_login(http_client& http, const std::string& password) {
  auto r =
      http.call("POST", "/api/v1/login", json{{"username", "admin"}, {"password", password}}.dump(),
                milliseconds(10000));
  if (!r || r->status != 200)
    throw std::runtime_error("bridge login failed: " +
                             (r ? std::to_string(r->status) + " " + r->body : r.err().message));
  return json::parse(r->body).at("token").get<std::string>();
}

void run_rounds(std::vector<way>& ways, int samples, int rounds) {
  int per = std::max(1, samples / rounds);
  for (int r = 0; r < rounds; ++r)
    for (std::size_t k = 0; k < ways.size(); ++k) {
      auto& w = ways[(k + static_cast<std::size_t>(r)) % ways.size()];
      for (int i = 0; i < per; ++i) {
        auto t0 = steady::now();
        bool ok = w.once();
        auto t1 = steady::now();
        if (ok)
          w.ms.push_back(ms_between(t0, t1));
        else
          ++w.errors;
      }
    }
}

void report(const std::vector<way>& ways) {
  auto direct = summarize(ways[0].ms);
  std::cout << "samples: ";
  for (const auto& w : ways)
    std::cout << w.name << " " << w.ms.size() << " (errors " << w.errors << ") ";
  std::cout << std::endl;
  auto ms = [](double v) { return with_unit(v, 3, "ms"); };
  print_figure(
      {"rtt: direct /_ping p50", ms(direct.p50), "-", "-", "-", "info",
       "p99 " + ms(direct.p99) + ", p999 " + ms(direct.p999) + ", n=" + std::to_string(direct.n)});
  for (std::size_t i = 1; i < ways.size(); ++i) {
    const auto& w = ways[i];
    auto s = summarize(w.ms);
    std::string err = w.errors ? "; " + std::to_string(w.errors) + " errors: " + w.last_error : "";
    bool measured = s.n > 0 && direct.n > 0;
    struct q {
      const char* label;
      double v, b, limit;
    };
    for (auto [label, v, b, limit] :
         {q{"p50", s.p50, direct.p50, 0.5}, q{"p99", s.p99, direct.p99, 2.0},
          q{"p999", s.p999, direct.p999, 0}}) {
      double over = v - b;
      figure f{"rtt: " + w.name + " ping " + label,
               ms(v),
               ms(b),
               ratio_text(v, b),
               limit > 0 ? "overhead <= " + fixed(limit, 1) + " ms" : "-",
               "info",
               "overhead " + fixed(over, 3) + " ms; n=" + std::to_string(s.n) + err};
      if (!measured)
        f.verdict = "ERROR";
      else if (limit > 0)
        f.verdict = pass_fail(over <= limit && w.errors == 0);
      print_figure(f);
    }
  }
}

int run(const po::variables_map& vm) {
  std::string fqdn = vm["fqdn"].as<std::string>();
  zmq::context_t ctx(1);
  mesh_client mesh(ctx,
                   mesh_options_from(vm, "bench-rtt-" + common::new_message_id().substr(0, 8)));
  http_client docker(vm["docker-socket"].as<std::string>(), "http://docker");
  std::vector<way> ways;
  ways.reserve(3);  // the lambdas hold pointers into ways
  ways.push_back({"direct", [&] {
                    auto r = docker.call("GET", "/_ping");
                    return r && r->status == 200 && r->body == "OK";
                  }});
  ways.push_back({"bus", nullptr});
  ways.back().once = [&, w = &ways.back()] {
    auto r = mesh.to_host(fqdn, std::string(dm_names::ping), json::object(), milliseconds(5000));
    if (r && r->code == 200 && r->body.value("pong", false)) return true;
    w->last_error = r ? "code " + std::to_string(r->code) : r.err().message;
    return false;
  };
  std::unique_ptr<http_client> bridge;
  if (vm.count("bridge-url")) {
    std::string url = vm["bridge-url"].as<std::string>();
    while (!url.empty() && url.back() == '/') url.pop_back();
    bridge = std::make_unique<http_client>("", url);
    if (!vm.count("admin-password-file"))
      throw std::runtime_error("--bridge-url needs --admin-password-file");
    std::string password = read_file(vm["admin-password-file"].as<std::string>());
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
      password.pop_back();
    auto token = bridge_login(*bridge, password);
    bridge->set_header("Authorization: Bearer " + token);
  }
  if (bridge) {
    std::string msg = json{{"action", dm_names::ping}, {"host", fqdn}}.dump();
    ways.push_back({"bridge", nullptr});
    ways.back().once = [&, msg, w = &ways.back()] {
      auto r = bridge->call("POST", "/api/v1/messages", msg, milliseconds(5000));
      if (r && r->status == 200 && r->body.find("\"pong\":true") != std::string::npos) return true;
      w->last_error =
          r ? "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 200) : r.err().message;
      return false;
    };
  }
  int samples = vm["samples"].as<int>();
  run_rounds(ways, std::max(30, samples / 20) * static_cast<int>(ways.size()), 1);  // warm-up
  for (auto& w : ways) w.ms.clear(), w.errors = 0;
  std::cout << "round trips: " << samples << " per way, interleaved in " << vm["rounds"].as<int>()
            << " rounds" << std::endl;
  run_rounds(ways, samples, vm["rounds"].as<int>());
  report(ways);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("bench_roundtrip options");
  add_mesh_options(opts);
  opts.add_options()("help", "this text")(
      "fqdn", po::value<std::string>()->default_value("host1.mesh.test"), "the agent's host")(
      "docker-socket", po::value<std::string>()->required(), "that host's Docker socket")(
      "bridge-url", po::value<std::string>(), "the bridge, e.g. http://127.0.0.1:7410/")(
      "admin-password-file", po::value<std::string>(), "the bridge's admin password")(
      "samples", po::value<int>()->default_value(3000), "round trips per way")(
      "rounds", po::value<int>()->default_value(20), "interleaving rounds");
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
    std::cerr << "bench_roundtrip: " << e.what() << "\n";
    return 1;
  }
}
