#include "agent/template_store.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/action_dispatcher.hpp"
#include "agent/recorded_docker.hpp"

using namespace dockmesh::agent;
using nlohmann::json;

namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    path = std::filesystem::temp_directory_path() /
           ("dm-templates-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(path / name) << text;
  }
  static inline int counter = 0;
};

const json redis = {{"image", "local/busybox:latest"},
                    {"cmd", {"sleep", "3600"}},
                    {"env", {"MODE=cache", "PORT=6379"}},
                    {"labels", {{"app", "redis"}, {"tier", "db"}}},
                    {"memory", 67108864},
                    {"network_mode", "none"},
                    {"binds", {"/srv/redis:/data"}}};

}  // namespace

TEST_CASE("merge: the request wins field by field; labels by key; env by variable name") {
  json merged = template_store::merge(redis, {{"template", "redis"},
                                              {"name", "cache-1"},
                                              {"env", {"PORT=7000", "EXTRA=1"}},
                                              {"labels", {{"tier", "cache"}}},
                                              {"cmd", {"sleep", "5"}}});
  CHECK(merged["image"] == "local/busybox:latest");
  CHECK(merged["name"] == "cache-1");
  CHECK(merged["cmd"] == json({"sleep", "5"}));
  CHECK(merged["env"] == json({"MODE=cache", "PORT=7000", "EXTRA=1"}));
  CHECK(merged["labels"] == json({{"app", "redis"}, {"tier", "cache"}}));
  CHECK(merged["memory"] == 67108864);
  CHECK(merged["template"] == "redis");
  CHECK(template_store::merge(redis, nullptr) == redis);
}

TEST_CASE("templates are validated at load, and a bad one names its file and field") {
  temp_dir ok;
  ok.write("redis.json", redis.dump());
  ok.write("README.txt", "not a template");
  auto store = template_store::load_dir(ok.path.string());
  CHECK(store.names() == std::vector<std::string>{"redis"});
  CHECK(store.find("redis") != nullptr);
  CHECK(store.find("nope") == nullptr);

  auto fails_with = [](const std::string& file, const std::string& text, const std::string& what) {
    temp_dir d;
    d.write(file, text);
    CAPTURE(file);
    try {
      template_store::load_dir(d.path.string());
      FAIL("loaded a bad template");
    } catch (const std::runtime_error& e) {
      std::string m = e.what();
      CHECK(m.find(file) != std::string::npos);
      CHECK_MESSAGE(m.find(what) != std::string::npos, m);
    }
  };
  fails_with("bad.json", "{not json", "not valid JSON");
  fails_with("noimage.json", R"({"cmd":["x"]})", "image");
  fails_with("types.json", R"({"image":"x","memory":"lots"})", "memory");
  fails_with("env.json", R"({"image":"x","env":["NOPE"]})", "env[0]");
  fails_with("chain.json", R"({"image":"x","template":"redis"})", "template");
  fails_with("Upper.json", R"({"image":"x"})", "template");
  fails_with("reserved.json", R"({"image":"x","labels":{"dockmesh.owner":"x"}})", "reserved");
  CHECK_THROWS_AS(template_store::load_dir("/nonexistent/dm-templates"), std::runtime_error);
}

TEST_CASE(
    "create-container with a template sends the merged spec; its host binds obey the policy") {
  template_store store;
  REQUIRE(store.add("redis", redis).ok());
  testing::recorded_docker docker;
  docker.rules.insert(docker.rules.begin(), {http_method::get, "/containers/json", 200, "[]"});
  progress_sink none;
  // Templates get no exemption: the host's policy must allow the template's host path.
  agent_identity self{"h", {}, "v", {}};
  action_request first{"req-6", "create-container", "alice", "user", {{"template", "redis"}}};
  auto denied = run_action(first, docker, &store, self, none);
  CHECK(denied.code == 403);
  CHECK(denied.err->message.find("field 'binds[0]'") == 0);
  CHECK(docker.requests.empty());
  self.policy.bind_prefixes = {"/srv/redis"};
  action_request req{"req-7",
                     "create-container",
                     "alice",
                     "user",
                     {{"template", "redis"}, {"name", "cache"}, {"env", {"PORT=7000"}}}};
  auto r = run_action(req, docker, &store, self, none);
  REQUIRE_MESSAGE(r.code == 201, (r.err ? r.err->message : ""));
  const auto& create = docker.requests[0];  // a first attempt: no lookup of earlier containers
  CHECK(create.path == "/containers/create?name=cache");
  json body = json::parse(create.body);
  CHECK(body["Image"] == "local/busybox:latest");
  CHECK(body["Env"] == json({"MODE=cache", "PORT=7000"}));
  CHECK(body["Labels"]["dockmesh.template"] == "redis");
  CHECK(body["Labels"]["dockmesh.owner"] == "alice");
  CHECK(body["HostConfig"]["Binds"] == json({"/srv/redis:/data"}));

  action_request own_bind{"req-8",
                          "create-container",
                          "alice",
                          "user",
                          {{"template", "redis"}, {"binds", {"/etc:/host-etc"}}}};
  auto refused = run_action(own_bind, docker, &store, self, none);
  CHECK(refused.code == 403);
  CHECK(refused.err->message.find("binds[0]") != std::string::npos);
  action_request unknown{"req-9", "create-container", "alice", "user", {{"template", "nope"}}};
  auto missing = run_action(unknown, docker, &store, self, none);
  CHECK(missing.code == 404);
  CHECK(missing.err->message.find("no template named 'nope'") != std::string::npos);
}
