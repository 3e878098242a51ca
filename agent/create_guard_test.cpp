#include "agent/create_guard.hpp"

#include <doctest/doctest.h>

#include "agent/action_dispatcher.hpp"
#include "agent/recorded_docker.hpp"

using namespace dockmesh::agent;
using nlohmann::json;
using testing::recorded_docker;
using m = http_method;

namespace {

const agent_identity self{"h", {}, "v", {}};

action_reply create_as(recorded_docker& docker, const std::string& user, const std::string& role,
                       json body) {
  progress_sink none = [](const json&) {};
  body["image"] = "local/busybox";
  return run_action({"req-1", "create-container", user, role, std::move(body)}, docker, nullptr,
                    self, none);
}

}  // namespace

TEST_CASE("a named volume that does not exist is created labelled with the caller's id") {
  recorded_docker docker;
  docker.rules.insert(
      docker.rules.begin(),
      {{m::get, "/volumes/data", 404, "no such volume", dockmesh::common::errc::not_found},
       {m::post, "/volumes/create", 201,
        R"({"Name":"data","Labels":{"dockmesh.owner":"alice"}})"}});
  auto r = create_as(docker, "alice", "user", {{"binds", {"data:/d"}}});
  REQUIRE_MESSAGE(r.code == 201, (r.err ? r.err->message : ""));
  bool made = false;
  for (const auto& q : docker.requests)
    if (q.path == "/volumes/create") {
      made = true;
      CHECK(json::parse(q.body)["Labels"]["dockmesh.owner"] == "alice");
    }
  CHECK(made);
}

TEST_CASE("another user's volume, or a race lost to them, is refused naming the bind") {
  recorded_docker docker;
  docker.rules.insert(
      docker.rules.begin(),
      {m::get, "/volumes/theirs", 200, R"({"Name":"theirs","Labels":{"dockmesh.owner":"bob"}})"});
  auto r = create_as(docker, "alice", "user", {{"binds", {"/x:/x:ro", "theirs:/d"}}});
  CHECK(r.code == 403);  // the host path first
  CHECK(r.err->message.find("field 'binds[0]'") == 0);
  r = create_as(docker, "alice", "user", {{"binds", {"theirs:/d"}}});
  CHECK(r.code == 403);
  CHECK(r.err->message.find("field 'binds[0]': volume 'theirs' belongs to another user") == 0);
  recorded_docker race;
  race.rules.insert(
      race.rules.begin(),
      {{m::get, "/volumes/vv", 404, "no such volume", dockmesh::common::errc::not_found},
       {m::post, "/volumes/create", 201, R"({"Name":"vv","Labels":{"dockmesh.owner":"bob"}})"}});
  CHECK(create_as(race, "alice", "user", {{"binds", {"vv:/d"}}}).code == 403);
  for (const auto& q : race.requests) CHECK(q.path.rfind("/containers/create", 0) != 0);
  // Admins bind what they like; Docker makes the volume.
  CHECK(create_as(docker, "root", "admin", {{"binds", {"theirs:/d", "/etc:/e"}}}).code == 201);
}

TEST_CASE("container: networks must name one of the caller's own containers") {
  recorded_docker docker;  // the recorded container belongs to alice
  CHECK(create_as(docker, "alice", "user", {{"network_mode", "container:rec1"}}).code == 201);
  for (const char* ref : {"rec1", "nope"}) {
    recorded_docker d;
    auto r = create_as(d, "bob", "user", {{"network_mode", std::string("container:") + ref}});
    CHECK(r.code == 403);
    CHECK(r.err->message == "field 'network_mode': no container '" + std::string(ref) +
                                "' of yours to share a network namespace with");
  }
}

TEST_CASE("forbidden fields are named before anything reaches Docker; role strings are strict") {
  for (const char* role : {"user", "Admin", ""}) {
    recorded_docker docker;
    auto r = create_as(docker, "alice", role, {{"privileged", true}});
    CHECK(r.code == 403);
    CHECK(r.err->message.find("field 'privileged'") == 0);
    CHECK(docker.requests.empty());
  }
}
