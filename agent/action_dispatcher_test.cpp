// The dispatcher end to end against recorded Docker answers: every action runs, reaches only its
// allowlisted endpoints, and hostile input is refused (400 naming the field) before Docker is
// asked anything.
#include "agent/action_dispatcher.hpp"
#include "common/protocol/catalogue.hpp"

#include <doctest/doctest.h>

#include "agent/endpoint_allowlist.hpp"
#include "agent/recorded_docker.hpp"
#include "agent/template_store.hpp"

using namespace dockmesh::agent;
using dockmesh::agent::testing::recorded_docker;
using nlohmann::json;

namespace {

// The recorded pulls come from localhost:5055, which this host's policy lets users pull from.
const agent_identity self{
    "host1.mesh.test", {{"zone", "a"}}, "0.1.0", {{}, 1024, 65535, {"localhost"}, false}};

action_reply run(recorded_docker& docker, const std::string& action, json body,
                 std::string user = "alice", std::string role = "user",
                 const template_store* t = nullptr) {
  progress_sink none = [](const json&) {};
  return run_action({"req-1", action, std::move(user), std::move(role), std::move(body)}, docker, t,
                    self, none);
}

const std::map<std::string, json>& good_bodies() {
  static const std::map<std::string, json> bodies = {
      {"ping", json::object()},
      {"host-info", json::object()},
      {"disk-usage", json::object()},
      {"list-containers", {{"label", "tier=web"}, {"status", "running"}}},
      {"inspect-container", {{"id", "rec1"}}},
      {"create-container",
       {{"image", "local/busybox"}, {"name", "web"}, {"instances", 2}, {"network_mode", "none"}}},
      {"start-container", {{"id", "rec1"}}},
      {"stop-container", {{"id", "rec1"}, {"timeout", 1}}},
      {"restart-container", {{"id", "rec1"}}},
      {"kill-container", {{"id", "rec1"}, {"signal", "HUP"}}},
      {"remove-container", {{"id", "rec1"}, {"force", true}}},
      {"delete-container", {{"id", "rec1"}}},
      {"container-logs", {{"id", "rec1"}, {"tail", 10}}},
      {"container-stats", {{"id", "rec1"}}},
      {"list-images", {{"reference", "local/*"}}},
      {"inspect-image", {{"image", "local/busybox:latest"}}},
      {"pull-image", {{"image", "localhost:5055/payload:v1"}}},
      {"remove-image", {{"image", "local/busybox:latest"}}},
  };
  return bodies;
}

}  // namespace

TEST_CASE("every action succeeds on recorded answers and calls only its allowlisted endpoints") {
  for (const auto& entry : action_table()) {
    std::string action(entry.name);
    CAPTURE(action);
    // Stream openers run on a stream thread with a channel: follow_actions_test.cpp.
    if (dockmesh::common::protocol::opens_stream(action)) continue;
    recorded_docker docker;
    // The recorded container belongs to alice; remove-image needs the admin role.
    auto r = run(docker, action, good_bodies().at(action), "alice",
                 action == "remove-image" ? "admin" : "user");
    CHECK_MESSAGE(r.code < 300, (r.err ? r.err->message : ""));
    CHECK_FALSE(docker.requests.empty());
    for (const auto& req : docker.requests) {
      CAPTURE(req.path);
      CHECK(endpoint_allowed(action, req.method, req.path));
    }
  }
}

TEST_CASE("unknown actions are refused by name and reach nothing") {
  recorded_docker docker;
  auto r = run(docker, "exec-container", {{"id", "x"}, {"cmd", {"sh"}}});
  CHECK(r.code == 400);
  CHECK(r.err->message == "unknown action 'exec-container'");
  CHECK(run(docker, "", json::object()).code == 400);
  CHECK(run(docker, "$inventory", json::object()).code == 400);
  CHECK(docker.requests.empty());
}

TEST_CASE(
    "hostile ids, names, refs, labels, env and signals: 400 naming the field, Docker untouched") {
  const std::vector<std::pair<std::string, json>> hostile = {
      {"inspect-container", {{"id", "../../info"}}},
      {"inspect-container", {{"id", "abc?all=1"}}},
      {"inspect-container", {{"id", "abc#x"}}},
      {"inspect-container", {{"id", "abc%2F..%2Finfo"}}},
      {"inspect-container", {{"id", "a b"}}},
      {"inspect-container", {{"id", "a\r\nHost: evil"}}},
      {"inspect-container", {{"id", std::string(300, 'a')}}},
      {"inspect-container", {{"id", 42}}},
      {"stop-container", {{"id", "x"}, {"timeout", "10"}}},
      {"kill-container", {{"id", "x"}, {"signal", "KILL&force=1"}}},
      {"kill-container", {{"id", "x"}, {"signal", "SIGNOPE"}}},
      {"remove-container", {{"id", "x"}, {"force", "yes"}}},
      {"container-logs", {{"id", "x"}, {"tail", "1; rm"}}},
      {"list-containers", {{"label", "a b=c"}}},
      {"list-containers", {{"status", "running&all=1"}}},
      {"list-containers", {{"name", "../x"}}},
      {"create-container", {{"image", "../../x"}}},
      {"create-container", {{"image", "Local/BusyBox"}}},
      {"create-container", {{"image", "x"}, {"name", "a/b"}}},
      {"create-container", {{"image", "x"}, {"env", {"A=1", "bad entry"}}}},
      {"create-container", {{"image", "x"}, {"labels", {{"dockmesh.owner", "mallory"}}}}},
      {"create-container", {{"image", "x"}, {"labels", {{"a?b", "c"}}}}},
      {"create-container", {{"image", "x"}, {"network_mode", "container:../x"}}},
      {"create-container", {{"image", "x"}, {"working_dir", "rel/path"}}},
      {"create-container", {{"image", "x"}, {"cmd", "sh -c ls"}}},
      {"create-container", {{"image", "x"}, {"instances", 1000}}},
      {"create-container",
       {{"image", "x"}, {"ports", {{{"container_port", 80}, {"host_ip", "evil.example"}}}}}},
      {"create-container", {{"template", "../redis"}}},
      {"inspect-image", {{"image", "a?b"}}},
      {"pull-image", {{"image", "x y"}}},
      {"pull-image", {{"image", "x"}, {"auth", "user:pass"}}},
      {"remove-image", {{"image", "%2e%2e"}}},
      {"list-images", {{"reference", "a&b"}}},
  };
  // Named references, not a structured binding: CAPTURE is a lambda, which clang 14 cannot
  // make capture a binding.
  for (const auto& hostile_call : hostile) {
    const std::string& action = hostile_call.first;
    const json& body = hostile_call.second;
    CAPTURE(action);
    CAPTURE(body.dump());
    recorded_docker docker;
    auto r = run(docker, action, body, "alice", "admin");
    CHECK(r.code == 400);
    REQUIRE(r.err);
    CHECK(r.err->message.find("field") != std::string::npos);
    CHECK(docker.requests.empty());
  }
}

TEST_CASE("Docker's 304 is a success with a note, Docker's errors keep their code and message") {
  recorded_docker docker;
  docker.rules.insert(docker.rules.begin(), {http_method::post, "/containers/", 304, ""});
  auto r = run(docker, "start-container", {{"id", "rec1"}});
  CHECK(r.code == 200);
  CHECK(r.body["note"] == "already running");
  auto missing = run(docker, "stop-container", {{"id", "nope"}});
  CHECK(missing.code == 404);
  CHECK(missing.err->message == "no container 'nope'");  // the same as another user's
}

TEST_CASE("stop passes the grace period and waits longer than it") {
  recorded_docker docker;
  CHECK(run(docker, "stop-container", {{"id", "rec1"}, {"timeout", 7}}).code == 200);
  const auto& stop = docker.requests.back();
  CHECK(stop.path.find("/stop?t=7") != std::string::npos);
  CHECK(stop.timeout >= std::chrono::seconds(37));
  CHECK(stop.path.find("075df898b122") != std::string::npos);  // acts on the full id it checked
}

TEST_CASE("logs come back demultiplexed") {
  recorded_docker docker;
  auto r = run(docker, "container-logs", {{"id", "rec1"}, {"tail", 5}, {"timestamps", true}});
  REQUIRE(r.code == 200);
  CHECK(r.body["stdout"] == "out-line-1\n");
  CHECK(r.body["stderr"] == "err-line-1\n");
  CHECK(r.body["truncated"] == false);
  CHECK(docker.requests.back().path.find("tail=5") != std::string::npos);
  CHECK(docker.requests.back().path.find("timestamps=1") != std::string::npos);
}

TEST_CASE("pull-image from a registry the host does not allow is refused before Docker") {
  recorded_docker docker;
  auto r = run(docker, "pull-image", {{"image", "registry.example.test/x:1"}});
  CHECK(r.code == 403);
  CHECK(r.err->message.find("field 'image'") == 0);
  CHECK(docker.requests.empty());
  CHECK(run(docker, "pull-image", {{"image", "localhost:5055/payload:v1"}}, "root", "admin").code ==
        200);
}

TEST_CASE("pull-image streams progress, sends credentials only in the header, reports the image") {
  recorded_docker docker;
  std::vector<json> events;
  progress_sink sink = [&](const json& p) { events.push_back(p); };
  action_request req{"req-9",
                     "pull-image",
                     "alice",
                     "user",
                     {{"image", "localhost:5055/payload:v1"},
                      {"auth", {{"username", "u"}, {"password", "hunter2"}}}}};
  auto r = run_action(req, docker, nullptr, self, sink);
  REQUIRE(r.code == 200);
  CHECK(r.body["image"] == "localhost:5055/payload:v1");
  CHECK(r.body["status"] == "Downloaded newer image for localhost:5055/payload:v1");
  CHECK(r.body.dump().find("hunter2") == std::string::npos);
  REQUIRE(events.size() >= 5);
  CHECK(events.front()["request"] == "req-9");
  const auto& pull = docker.requests.front();
  CHECK(pull.path == "/images/create?fromImage=localhost%3A5055%2Fpayload&tag=v1");
  REQUIRE(pull.headers.size() == 1);
  CHECK(pull.headers[0].rfind("X-Registry-Auth: ", 0) == 0);
  CHECK(pull.path.find("hunter2") == std::string::npos);
  CHECK(pull.body.find("hunter2") == std::string::npos);
}

TEST_CASE("pull errors inside the stream become replies with a fitting code") {
  recorded_docker docker;
  docker.rules.insert(
      docker.rules.begin(),
      {http_method::post, "/images/create", 200,
       "{\"status\":\"Pulling from x\"}\n{\"errorDetail\":{\"message\":\"unauthorized: "
       "authentication required\"},"
       "\"error\":\"unauthorized: authentication required\"}\n"});
  auto r = run(docker, "pull-image", {{"image", "localhost:5055/x"}});
  CHECK(r.code == 401);
  CHECK(r.err->message == "unauthorized: authentication required");
  CHECK(docker.count(http_method::get, "/images/") == 0);  // no inspect after a failed pull
}
