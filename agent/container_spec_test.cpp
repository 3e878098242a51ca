#include "agent/container_spec.hpp"

#include <doctest/doctest.h>

#include "agent/action_dispatcher.hpp"
#include "agent/recorded_docker.hpp"

using namespace dockmesh::agent;
using dockmesh::common::errc;
using dockmesh::common::parse_create_container_args;
using nlohmann::json;

TEST_CASE("the Docker create body carries every field and the ownership labels") {
  auto a = parse_create_container_args(
      {{"image", "local/busybox"},
       {"name", "web"},
       {"cmd", {"sleep", "9"}},
       {"entrypoint", json::array()},
       {"env", {"A=1"}},
       {"labels", {{"tier", "web"}}},
       {"working_dir", "/srv"},
       {"user", "1000"},
       {"ports",
        {{{"container_port", 80}, {"host_port", 8080}, {"host_ip", "127.0.0.1"}},
         {{"container_port", 53}, {"protocol", "udp"}}}},
       {"binds", {"vol:/data:ro"}},
       {"volumes", {"/cache"}},
       {"memory", 67108864},
       {"cpus", 1.5},
       {"restart_policy", "on-failure:3"},
       {"network_mode", "none"},
       {"stop_timeout", 4},
       {"instances", 2}});
  REQUIRE(a.ok());
  json b = docker_create_body(*a, {"req-1", "create-container", "alice", "user", {}}, 2);
  CHECK(b["Image"] == "local/busybox");
  CHECK(b["Cmd"] == json({"sleep", "9"}));
  CHECK(b["Entrypoint"] == json::array());  // explicitly cleared, not the image's
  CHECK(b["Env"] == json({"A=1"}));
  CHECK(b["Labels"] == json({{"tier", "web"},
                             {"dockmesh.owner", "alice"},
                             {"dockmesh.request", "req-1"},
                             {"dockmesh.instance", "2"}}));
  CHECK(b["WorkingDir"] == "/srv");
  CHECK(b["User"] == "1000");
  CHECK(b["StopTimeout"] == 4);
  CHECK(b["ExposedPorts"] == json({{"80/tcp", json::object()}, {"53/udp", json::object()}}));
  CHECK(b["Volumes"] == json({{"/cache", json::object()}}));
  const json& hc = b["HostConfig"];
  CHECK(hc["PortBindings"] ==
        json({{"80/tcp", {{{"HostIp", "127.0.0.1"}, {"HostPort", "8080"}}}}}));
  CHECK(hc["Binds"] == json({"vol:/data:ro"}));
  CHECK(hc["Memory"] == 67108864);
  CHECK(hc["NanoCpus"] == 1500000000);
  CHECK(hc["RestartPolicy"] == json({{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  CHECK(hc["NetworkMode"] == "none");
  CHECK(instance_name(*a, 2) == "web-2");
  auto minimal = parse_create_container_args({{"image", "x"}});
  json m = docker_create_body(*minimal, {"r", "create-container", "bob", "user", {}}, 1);
  CHECK_FALSE(m.contains("Cmd"));
  CHECK_FALSE(m.contains("Entrypoint"));
  CHECK(m["HostConfig"] == json::object());
  CHECK(instance_name(*minimal, 1).empty());
}

TEST_CASE("create grammar: reserved labels; binds are grammar-checked, policy is elsewhere") {
  auto labels =
      parse_create_container_args({{"image", "x"}, {"labels", {{"dockmesh.owner", "eve"}}}});
  auto r = validate_create(*labels);
  CHECK(r.err().code == errc::invalid_argument);
  CHECK(r.err().message.find("reserved") != std::string::npos);
  auto host = parse_create_container_args({{"image", "x"}, {"binds", {"vol:/v", "/:/host"}}});
  CHECK(validate_create(*host).ok());
}

namespace {

struct create_run {
  testing::recorded_docker docker;
  action_reply run(json body, const std::string& user = "alice", const std::string& role = "user",
                   const std::string& id = "req-1", int attempt = 1) {
    progress_sink none;
    agent_identity self{"h", {}, "v", {}};
    return run_action({id, "create-container", user, role, std::move(body), attempt}, docker,
                      nullptr, self, none);
  }
};

}  // namespace

TEST_CASE(
    "create is idempotent by request id: existing instances are reported, missing ones made") {
  create_run c;
  // Docker already has instance 1 of req-1 (created, never started), owned by alice.
  c.docker.rules.insert(
      c.docker.rules.begin(),
      {http_method::get, "/containers/json", 200,
       R"([{"Id":"aaa","Names":["/web-1"],"State":"created","Labels":{"dockmesh.owner":"alice","dockmesh.request":"req-1","dockmesh.instance":"1"}}])"});
  auto r = c.run({{"image", "local/busybox"}, {"name", "web"}, {"instances", 2}});
  REQUIRE_MESSAGE(r.code == 201, (r.err ? r.err->message : ""));
  CHECK(c.docker.requests[0].path.find("dockmesh.request%3Dreq-1") != std::string::npos);
  CHECK(c.docker.count(http_method::post, "/containers/create") == 1);
  CHECK(c.docker.count(http_method::post, "/containers/create?name=web-2") == 1);
  CHECK(c.docker.count(http_method::post, "/containers/aaa/start") ==
        1);  // the earlier one, finished
  CHECK(r.body["containers"][0]["reused"] == true);
  CHECK(r.body["containers"][1]["reused"] == false);
  CHECK(r.body["containers"].size() == 2);
}

TEST_CASE("create retried after everything exists creates nothing and says so") {
  create_run c;
  c.docker.rules.insert(
      c.docker.rules.begin(),
      {http_method::get, "/containers/json", 200,
       R"([{"Id":"aaa","Names":["/web"],"State":"running","Labels":{"dockmesh.owner":"alice","dockmesh.request":"req-1","dockmesh.instance":"1"}}])"});
  auto r = c.run({{"image", "local/busybox"}, {"name", "web"}});
  CHECK(r.code == 200);
  CHECK(r.body["id"] == "aaa");
  CHECK(r.body["note"] == "already created by an earlier attempt of this request");
  CHECK(c.docker.count(http_method::post, "/containers/") == 0);
  // The same request id from someone else is not a way to learn about alice's container.
  auto other = c.run({{"image", "local/busybox"}}, "mallory");
  CHECK(other.code == 409);
}

TEST_CASE("a first attempt does not look for earlier containers; a retry does") {
  create_run c;
  REQUIRE(c.run({{"image", "local/busybox"}, {"name", "web"}}, "alice", "user", "req-1", 0).code ==
          201);
  CHECK(c.docker.count(http_method::get, "/containers/json") == 0);
  CHECK(c.docker.count(http_method::post, "/containers/create?name=web") == 1);
  c.docker.rules.insert(c.docker.rules.begin(), {http_method::get, "/containers/json", 200, "[]"});
  REQUIRE(c.run({{"image", "local/busybox"}, {"name", "web"}}, "alice", "user", "req-1", 1).code ==
          201);
  CHECK(c.docker.count(http_method::get, "/containers/json") == 1);
}

TEST_CASE("create needs a user, refuses malformed request ids, and reports a failed start") {
  create_run c;
  CHECK(c.run({{"image", "x"}}, "").code == 403);
  CHECK(c.run({{"image", "x"}}, "alice", "user", "bad id").code == 400);
  c.docker.rules.insert(c.docker.rules.begin(), {http_method::get, "/containers/json", 200, "[]"});
  c.docker.rules.insert(c.docker.rules.begin(),
                        {http_method::post, "/containers/f00d/start", 400,
                         "exec: \"nope\": executable file not found", errc::invalid_argument});
  auto r = c.run({{"image", "local/busybox"}, {"cmd", {"nope"}}});
  CHECK(r.code == 400);
  CHECK(r.err->message.find("was created but did not start") != std::string::npos);
  CHECK(r.body["id"] == "f00d");  // so the caller can remove it
}

TEST_CASE("a health check becomes Docker's Healthcheck, durations in nanoseconds") {
  auto a = parse_create_container_args(
      {{"image", "local/busybox:latest"},
       {"healthcheck",
        {{"test", {"CMD-SHELL", "test -e /tmp/ok"}}, {"interval_s", 2}, {"retries", 2}}}});
  REQUIRE(a);
  REQUIRE(validate_create(*a));
  json b = docker_create_body(*a, {"r", "create-container", "bob", "user", {}}, 1);
  CHECK(b["Healthcheck"]["Test"] == json{"CMD-SHELL", "test -e /tmp/ok"});
  CHECK(b["Healthcheck"]["Interval"] == 2000000000);
  CHECK(b["Healthcheck"]["Timeout"] == 0);  // Docker's default
  CHECK(b["Healthcheck"]["Retries"] == 2);
  for (json bad : {json{{"test", {"sh", "-c", "true"}}}, json{{"interval_s", 1}},
                   json{{"test", {"CMD"}}, {"retries", -1}}, json{{"test", "CMD true"}}})
    CHECK(parse_create_container_args({{"image", "x"}, {"healthcheck", bad}}).err().code ==
          errc::invalid_argument);
  CHECK_FALSE(docker_create_body(*parse_create_container_args({{"image", "x"}}),
                                 {"r", "create-container", "bob", "user", {}}, 1)
                  .contains("Healthcheck"));
}
