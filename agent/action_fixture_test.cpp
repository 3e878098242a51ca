// A new agent action is one catalogue entry plus one handler: the dispatcher built over
// common/protocol/fixture_catalogue.hpp runs it, the start-up check refuses a handler or an entry
// left without its other half, and the handler's Docker access is still the allowlist's.
#include <doctest/doctest.h>

#include <stdexcept>

#include "agent/action_dispatcher.hpp"
#include "agent/endpoint_allowlist.hpp"
#include "agent/recorded_docker.hpp"
#include "common/protocol/fixture_catalogue.hpp"

using namespace dockmesh::agent;
using dockmesh::common::protocol::catalogue;
using dockmesh::common::protocol::message_kind;
using namespace dockmesh::common::protocol::testing;
using nlohmann::json;

namespace {

action_reply echo(action_context& ctx) {
  // Docker is reachable only through the allowlist: a made-up action has no endpoints there.
  auto denied = ctx.docker.call({http_method::get, "/_ping", {}, {}, {}});
  json body = ctx.request.body;
  body["docker_refused"] = !denied.ok();
  return ok_reply(std::move(body));
}

handler_map with_fixture_handlers() {
  handler_map h;
  for (const auto& e : action_dispatcher::builtin().entries())
    if (e.name == e.canonical) h[std::string(e.name)] = e.handler;
  h[std::string(fixture_echo)] = echo;
  h[std::string(fixture_admin)] = echo;
  return h;
}

const agent_identity self{"host1.mesh.test", {}, "0.1.0", {}};

}  // namespace

TEST_CASE("a new catalogue entry with its handler is dispatched") {
  action_dispatcher d(fixture_catalogue(), with_fixture_handlers());
  testing::recorded_docker docker;
  progress_sink none = [](const json&) {};
  auto r = d.run({"req-1", std::string(fixture_echo), "alice", "user", {{"text", "hi"}}}, docker,
                 nullptr, self, none);
  REQUIRE(r.code == 200);
  CHECK(r.body["text"] == "hi");
  CHECK(r.body["docker_refused"] == true);
  CHECK(docker.requests.empty());
  // The built-in actions still work through the same dispatcher.
  CHECK(
      d.run({"req-2", "ping", "alice", "user", json::object()}, docker, nullptr, self, none).code ==
      200);
  // And the built-in dispatcher does not know the fixture.
  CHECK_FALSE(is_known_action(fixture_echo));
}

TEST_CASE("the start-up check refuses an entry without a handler and a handler without an entry") {
  CHECK_THROWS_WITH_AS(action_dispatcher(fixture_catalogue(), handler_map{}),
                       doctest::Contains("has no handler"), std::logic_error);
  auto only_builtin = with_fixture_handlers();
  only_builtin.erase(std::string(fixture_admin));
  CHECK_THROWS_WITH_AS(action_dispatcher(fixture_catalogue(), only_builtin),
                       doctest::Contains("fixture-admin-only"), std::logic_error);
  CHECK_THROWS_WITH_AS(action_dispatcher(catalogue::builtin(), with_fixture_handlers()),
                       doctest::Contains("serves no agent action"), std::logic_error);
  CHECK_NOTHROW(action_dispatcher::builtin());
}

TEST_CASE(
    "every built-in agent action has allowlisted endpoints; every key is an action or a job") {
  const auto& cat = catalogue::builtin();
  for (const auto* spec : cat.of_kind(message_kind::agent_action)) {
    CAPTURE(spec->name);
    CHECK_FALSE(endpoints_for(spec->name).empty());
  }
  for (auto key : allowlisted_actions()) {
    CAPTURE(std::string(key));
    bool job = key == job_host_facts || key == job_inventory || key == job_events;
    const auto* spec = cat.find(key, message_kind::agent_action);
    CHECK((job || (spec && spec->alias_of.empty())));
  }
}
