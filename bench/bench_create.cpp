// bench_create: create + start of containers through the mesh (bus client -> broker -> agent ->
// dockerd: create-container with start) against the same two calls made directly on the Docker
// API (POST /containers/create, POST /containers/{id}/start), on the same dockerd, the same
// image and command, network none. Direct and mesh creates alternate one by one (which goes
// first alternates too), so a dockerd that slows down as containers pile up slows both alike.
// Every container made is removed at the end, whatever happened.
#include <iostream>
#include <set>
#include <thread>

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

struct create_run {
  std::vector<double> direct_ms, mesh_ms;
  std::vector<std::string> ids;  // everything to remove
  std::uint64_t errors = 0;
  std::string last_error;
};

bool create_direct(http_client& docker, const std::string& image, const std::string& name,
                   create_run& run) {
  json body = {
      {"Image", image}, {"Cmd", {"sleep", "60"}}, {"HostConfig", {{"NetworkMode", "none"}}}};
  auto c = docker.call("POST", "/containers/create?name=" + name, body.dump());
  if (!c || c->status != 201) {
    run.last_error =
        c ? "create HTTP " + std::to_string(c->status) + " " + c->body : c.err().message;
    return false;
  }
  std::string id = json::parse(c->body).value("Id", "");
  run.ids.push_back(id);
  auto s = docker.call("POST", "/containers/" + id + "/start");
  if (!s || s->status != 204) {
    run.last_error = s ? "start HTTP " + std::to_string(s->status) : s.err().message;
    return false;
  }
  return true;
}

bool create_mesh(mesh_client& mesh, const std::string& fqdn, const std::string& image,
                 const std::string& name, create_run& run) {
  json body = {
      {"image", image}, {"name", name}, {"cmd", {"sleep", "60"}}, {"network_mode", "none"}};
  auto r = mesh.to_host(fqdn, std::string(dm_names::create_container), body, milliseconds(60000));
  if (r && r->body.is_object() && r->body.contains("id"))
    run.ids.push_back(r->body.value("id", ""));
  if (!r || r->code != 201) {
    run.last_error = r ? "code " + std::to_string(r->code) + " " + (r->err ? r->err->message : "")
                       : r.err().message;
    return false;
  }
  return true;
}

// Removes what this run made, and anything left under its name prefix (a timed-out create).
void clean_up(http_client& docker, const create_run& run, const std::string& prefix) {
  std::set<std::string> ids(run.ids.begin(), run.ids.end());
  json filters = {{"name", {prefix}}};
  std::string q = "/containers/json?all=1&filters=" + filters.dump();
  std::string enc;
  for (char ch : q) {  // the filter goes into the query: escape what a URL cannot hold
    if (std::isalnum(static_cast<unsigned char>(ch)) ||
        std::string_view("/?=&-_.").find(ch) != std::string_view::npos)
      enc += ch;
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(ch));
      enc += buf;
    }
  }
  if (auto l = docker.call("GET", enc); l && l->status == 200)
    for (const auto& c : json::parse(l->body)) ids.insert(c.value("Id", ""));
  for (const auto& id : ids)
    if (!id.empty()) (void)docker.call("DELETE", "/containers/" + id + "?force=1&v=1");
}

void report(const create_run& run, int count) {
  auto d = summarize(run.direct_ms), m = summarize(run.mesh_ms);
  double dt = d.mean * static_cast<double>(d.n), mt = m.mean * static_cast<double>(m.n);
  bool complete =
      static_cast<int>(d.n) == count && static_cast<int>(m.n) == count && run.errors == 0;
  std::string note = "per container p50 mesh " + with_unit(m.p50, 1, "ms") + " vs direct " +
                     with_unit(d.p50, 1, "ms") + ", p99 " + with_unit(m.p99, 1, "ms") + " vs " +
                     with_unit(d.p99, 1, "ms") + "; alternating, 300 ms untimed pause before each";
  if (run.errors) note += "; " + std::to_string(run.errors) + " errors: " + run.last_error;
  print_figure({"create+start x" + std::to_string(count) + ": mesh vs direct",
                with_unit(mt / 1000, 2, "s"), with_unit(dt / 1000, 2, "s"), ratio_text(mt, dt),
                "<= 1.03x", complete ? pass_fail(dt > 0 && mt / dt <= 1.03) : "ERROR", note});
}

int run(const po::variables_map& vm) {
  std::string fqdn = vm["fqdn"].as<std::string>(), image = vm["image"].as<std::string>();
  int count = vm["count"].as<int>();
  zmq::context_t ctx(1);
  mesh_client mesh(ctx,
                   mesh_options_from(vm, "bench-create-" + common::new_message_id().substr(0, 8)));
  http_client docker(vm["docker-socket"].as<std::string>(), "http://docker");
  std::string tag = common::new_message_id().substr(0, 6), prefix = "bench-create-" + tag;
  create_run run;
  // One of each first, not timed: the first create on a dockerd pays for cold caches.
  bool warm = create_direct(docker, image, prefix + "-warm-d", run) &&
              create_mesh(mesh, fqdn, image, prefix + "-warm-m", run);
  if (!warm) {
    std::cerr << "bench_create: warm-up create failed: " << run.last_error << "\n";
    clean_up(docker, run, prefix);
    print_figure({"create+start x" + std::to_string(count) + ": mesh vs direct", "-", "-", "-",
                  "<= 1.03x", "ERROR", run.last_error});
    return 1;
  }
  // A pause before each timed create: background work one create starts (dockerd's own event
  // handling; the agent re-reads its inventory 250 ms after the last container event) then lands
  // in the pause, not in whichever create happens to come next, mesh or direct.
  auto gap = milliseconds(vm["gap-ms"].as<int>());
  for (int i = 0; i < count; ++i) {
    for (int k = 0; k < 2; ++k) {
      std::this_thread::sleep_for(gap);
      bool direct = (k == 0) == (i % 2 == 0);
      std::string name = prefix + (direct ? "-d" : "-m") + std::to_string(i);
      auto t0 = steady::now();
      bool ok = direct ? create_direct(docker, image, name, run)
                       : create_mesh(mesh, fqdn, image, name, run);
      double ms = ms_between(t0, steady::now());
      if (!ok)
        ++run.errors;
      else
        (direct ? run.direct_ms : run.mesh_ms).push_back(ms);
    }
  }
  clean_up(docker, run, prefix);
  report(run, count);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("bench_create options");
  add_mesh_options(opts);
  opts.add_options()("help", "this text")(
      "fqdn", po::value<std::string>()->default_value("host1.mesh.test"), "the agent's host")(
      "docker-socket", po::value<std::string>()->required(), "that host's Docker socket")(
      "image", po::value<std::string>()->default_value("local/busybox:latest"), "image")(
      "count", po::value<int>()->default_value(30), "containers per way")(
      "gap-ms", po::value<int>()->default_value(300), "untimed pause before each create");
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
    std::cerr << "bench_create: " << e.what() << "\n";
    return 1;
  }
}
