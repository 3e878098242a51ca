// The Docker-compatible endpoint's pure parts: routes (deny by default over the whole Docker
// Engine API v1.41), the create translation (on the body the real docker CLI 20.10 sends for
// `docker run -d --network none local/busybox:latest true`), summaries, filters, events, stats
// and the log stream framing.
#include <fstream>
#include <set>
#include <sstream>

#include <doctest/doctest.h>

#include "ui-bridge/docker_api_routes.hpp"
#include "ui-bridge/docker_api_translate.hpp"

using namespace dockmesh::bridge;
using nlohmann::json;

namespace {

std::string concrete(const std::string& pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    out += "x";
    i = pattern.find('}', i);
  }
  return out;
}

json read_json(const std::string& name) {
  std::ifstream in(std::string(DOCKMESH_BRIDGE_TESTDATA) + "/" + name);
  REQUIRE_MESSAGE(in.good(), "cannot read testdata/" << name);
  return json::parse(in);
}

}  // namespace

TEST_CASE("every Docker API v1.41 route is either implemented or answers 501") {
  std::ifstream in(std::string(DOCKMESH_AGENT_TESTDATA) + "/docker_api_v1.41_routes.txt");
  REQUIRE(in.good());
  std::set<std::string> implemented;
  std::size_t routes = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string method, path;
    words >> method >> path;
    routes += 1;
    auto m = find_docker_route(method, concrete(path));
    auto v = find_docker_route(method, "/v1.41" + concrete(path));
    CHECK_MESSAGE(m.has_value() == v.has_value(), line);
    if (m) implemented.insert(method + " " + path);
  }
  CHECK(routes > 100);
  // The implemented set is exactly what docs/docker-api.md lists; any other route is 501.
  std::set<std::string> expected = {"GET /_ping",
                                    "HEAD /_ping",
                                    "GET /version",
                                    "GET /info",
                                    "GET /events",
                                    "GET /containers/json",
                                    "POST /containers/create",
                                    "GET /containers/{id}/json",
                                    "GET /containers/{id}/logs",
                                    "GET /containers/{id}/stats",
                                    "POST /containers/{id}/start",
                                    "POST /containers/{id}/stop",
                                    "POST /containers/{id}/restart",
                                    "POST /containers/{id}/kill",
                                    "POST /containers/{id}/wait",
                                    "DELETE /containers/{id}",
                                    "GET /images/json",
                                    "POST /images/create",
                                    "GET /images/{name}/json",
                                    "DELETE /images/{name}"};
  CHECK(implemented == expected);
  std::set<std::string> listed;
  for (const auto& r : implemented_docker_routes()) listed.insert(r);
  CHECK(listed == expected);
}

TEST_CASE("docker routes: version prefix, image names with slashes, escapes") {
  CHECK(strip_api_version("/v1.41/containers/json") == "/containers/json");
  CHECK(strip_api_version("/v1.24/_ping") == "/_ping");
  CHECK(strip_api_version("/vx.41/_ping") == "/vx.41/_ping");
  auto m = find_docker_route("GET", "/v1.41/images/localhost:5000/busybox:latest/json");
  REQUIRE(m);
  CHECK(m->route == docker_route::image_inspect);
  CHECK(m->id == "localhost:5000/busybox:latest");
  auto d = find_docker_route("DELETE", "/images/localhost%3A5000%2Fbusybox");
  CHECK(!d);  // an encoded '/' is refused, never decoded into a path
  auto c = find_docker_route("POST", "/v1.41/containers/web/start");
  REQUIRE(c);
  CHECK(c->route == docker_route::container_start);
  CHECK(c->id == "web");
  CHECK(!find_docker_route("POST", "/containers/web/attach"));
  CHECK(!find_docker_route("GET", "/swarm"));
  CHECK(!find_docker_route("PUT", "/containers/json"));
}

TEST_CASE("docker create: the CLI's body becomes a create-container that is not started") {
  auto msg = mesh_create_message(read_json("docker_cli_run_create.json"), "web");
  REQUIRE_MESSAGE(msg, msg.err().message);
  CHECK((*msg)["action"] == "create-container");
  CHECK((*msg)["image"] == "local/busybox:latest");
  CHECK((*msg)["cmd"] == json::array({"true"}));
  CHECK((*msg)["network_mode"] == "none");
  CHECK((*msg)["start"] == false);
  CHECK((*msg)["name"] == "web");
  for (const char* absent :
       {"privileged", "cap_add", "cgroup_parent", "restart_policy", "host", "labels"})
    CHECK_MESSAGE(!msg->contains(absent), std::string(absent) << " in " << msg->dump());
}

TEST_CASE("docker create: privileges carried over by name, placement from mesh.* labels") {
  json body = {{"Image", "busybox"},
               {"Labels", {{"tier", "web"}, {"mesh.host", "host2.mesh.test"}}},
               {"HostConfig",
                {{"Privileged", true},
                 {"CapAdd", {"NET_ADMIN"}},
                 {"PidMode", "host"},
                 {"IpcMode", "private"},
                 {"RestartPolicy", {{"Name", "on-failure"}, {"MaximumRetryCount", 3}}},
                 {"PortBindings", {{"80/tcp", {{{"HostIp", ""}, {"HostPort", "8080"}}}}}},
                 {"NanoCpus", 500000000}}}};
  auto msg = mesh_create_message(body, "");
  REQUIRE(msg);
  CHECK((*msg)["privileged"] == true);
  CHECK((*msg)["cap_add"] == json::array({"NET_ADMIN"}));
  CHECK((*msg)["pid_mode"] == "host");
  CHECK(!msg->contains("ipc_mode"));
  CHECK((*msg)["host"] == "host2.mesh.test");
  CHECK((*msg)["labels"] == json{{"tier", "web"}});
  CHECK((*msg)["restart_policy"] == "on-failure:3");
  CHECK((*msg)["cpus"] == doctest::Approx(0.5));
  CHECK((*msg)["ports"] ==
        json::array({{{"container_port", 80}, {"protocol", "tcp"}, {"host_port", 8080}}}));

  json placed = {
      {"Image", "busybox"},
      {"Labels", {{"mesh.constraints", "zone==a,disk!=hdd"}, {"mesh.strategy", "binpack"}}}};
  auto p = mesh_create_message(placed, "");
  REQUIRE(p);
  CHECK((*p)["constraints"] == json::array({"zone==a", "disk!=hdd"}));
  CHECK((*p)["strategy"] == "binpack");
  CHECK(!mesh_create_message({{"Image", "busybox"}, {"Labels", {{"mesh.hots", "x"}}}}, ""));
  CHECK(!mesh_create_message({{"Image", "busybox"}, {"Tty", true}}, ""));
  CHECK(!mesh_create_message({{"Image", "busybox"}, {"HostConfig", {{"AutoRemove", true}}}}, ""));
  CHECK(!mesh_create_message({{"Cmd", {"true"}}}, ""));
  CHECK(!mesh_create_message(json::array(), ""));
}

TEST_CASE("docker ps: summaries and filters") {
  json e = {{"id", "abc123"},
            {"name", "web"},
            {"image", "busybox"},
            {"state", "running"},
            {"status", "Up 2 seconds"},
            {"created", 5},
            {"labels", {{"tier", "web"}}},
            {"host", "host1.mesh.test"}};
  json c = docker_container_summary(e);
  CHECK(c["Names"] == json::array({"/web"}));
  CHECK(c["Labels"]["mesh.host"] == "host1.mesh.test");
  auto f = parse_docker_filters(R"({"label":["tier=web"],"status":["running"]})");
  REQUIRE(f);
  CHECK(container_passes(*f, c));
  CHECK(!container_passes(*parse_docker_filters(R"({"label":["tier=db"]})"), c));
  CHECK(container_passes(*parse_docker_filters(R"({"label":{"mesh.host=host1.mesh.test":true}})"),
                         c));
  CHECK(!container_passes(*parse_docker_filters(R"({"status":["exited"]})"), c));
  CHECK(container_passes(*parse_docker_filters(R"({"id":["abc"],"name":["we"]})"), c));
  CHECK(!parse_docker_filters("not json"));
}

TEST_CASE("docker events and stats shapes") {
  json env = {{"action", "docker-event"},
              {"body",
               {{"type", "container"},
                {"action", "die"},
                {"id", "abc"},
                {"name", "web"},
                {"image", "busybox"},
                {"exit_code", "137"},
                {"time", 10},
                {"time_nano", 10000000000}}}};
  auto e = docker_event(env, "host1.mesh.test");
  REQUIRE(e);
  CHECK((*e)["Action"] == "die");
  CHECK((*e)["Actor"]["Attributes"]["exitCode"] == "137");
  CHECK((*e)["status"] == "die");
  CHECK(event_passes(*parse_docker_filters(R"({"event":["die"],"container":["web"]})"), *e));
  CHECK(!event_passes(*parse_docker_filters(R"({"type":["image"]})"), *e));
  CHECK(!docker_event({{"action", "pull-progress"}}, "h"));

  json s = docker_stats({{"cpu_percent", 50.0},
                         {"online_cpus", 2},
                         {"memory_usage", 100},
                         {"memory_limit", 1000},
                         {"pids", 3},
                         {"name", "web"}},
                        "abc");
  double cpu_delta = s["cpu_stats"]["cpu_usage"]["total_usage"].get<double>();
  double sys_delta = s["cpu_stats"]["system_cpu_usage"].get<double>();
  CHECK(cpu_delta / sys_delta * 2 * 100 == doctest::Approx(50.0));
  CHECK(s["memory_stats"]["usage"] == 100);
  CHECK(s["name"] == "/web");
  CHECK(unix_seconds("1700000000.25") == 1700000000);
  CHECK(unix_seconds("abc") == -1);
}

TEST_CASE("docker logs: timestamped lines merged in time order and framed") {
  json body = {{"stdout", "2026-11-22T16:45:52.1Z one\n2026-11-22T16:45:53.000000001Z three\n"},
               {"stderr", "2026-11-22T16:45:52.5Z two\n"}};
  auto lines = merge_logs(body);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].text == "one\n");
  CHECK(lines[1].text == "two\n");
  CHECK(lines[1].stream == 2);
  CHECK(lines[2].text == "three\n");
  CHECK(lines[2].nanos == 1);
  CHECK(lines[0].stamp == "2026-11-22T16:45:52.1Z ");
  CHECK(lines[0].nanos == 100000000);
  std::string frame = log_frame(2, "two\n");
  CHECK(frame.size() == 12);
  CHECK(frame[0] == 2);
  CHECK(frame[7] == 4);
  CHECK(frame.substr(8) == "two\n");
  auto bare = parse_log_lines("no stamp\n", 1);
  REQUIRE(bare.size() == 1);
  CHECK(bare[0].seconds == 0);
  CHECK(bare[0].text == "no stamp\n");
}
