#include "cli/send_plan.hpp"

#include <doctest/doctest.h>

#include "common/protocol/fixture_catalogue.hpp"

using dockmesh::cli::plan_send;
using dockmesh::cli::resolve_host;
using dockmesh::cli::send_options;
using dockmesh::cli::send_route;
using dockmesh::common::errc;

TEST_CASE("create-container without a host goes to the shared topic") {
  auto p = plan_send(
      R"({"action":"create-container","image":"local/busybox:latest","cmd":["sleep","60"]})",
      send_options{});
  REQUIRE(p.ok());
  CHECK(p->route == send_route::any);
  CHECK(p->topic == "req/any/");
  CHECK(p->request.action == "create-container");
  CHECK(p->request.role == "admin");
  CHECK(p->request.user == "admin");
  CHECK(p->request.body ==
        nlohmann::json{{"image", "local/busybox:latest"}, {"cmd", {"sleep", "60"}}});
}

TEST_CASE("the host field picks the agent's topic and leaves the body") {
  auto p = plan_send(R"({"action":"ping","host":"host1.mesh.test"})", send_options{});
  REQUIRE(p.ok());
  CHECK(p->route == send_route::host);
  CHECK(p->topic == "req/host/host1.mesh.test/");
  CHECK(p->request.body == nlohmann::json::object());
}

TEST_CASE("--host works like the host field; conflicting hosts are refused") {
  send_options o;
  o.host = "host2.mesh.test";
  o.user = "alice";
  auto p = plan_send(R"({"action":"list-containers"})", o);
  REQUIRE(p.ok());
  CHECK(p->topic == "req/host/host2.mesh.test/");
  CHECK(p->request.user == "alice");
  CHECK(p->request.role == "admin");

  CHECK(plan_send(R"({"action":"ping","host":"host2.mesh.test"})", o).ok());
  auto clash = plan_send(R"({"action":"ping","host":"host1.mesh.test"})", o);
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.err().message.find("disagree") != std::string::npos);
}

TEST_CASE("--all broadcasts and refuses a host") {
  send_options o;
  o.all = true;
  auto p = plan_send(R"({"action":"ping"})", o);
  REQUIRE(p.ok());
  CHECK(p->route == send_route::all);
  CHECK(p->topic == "req/all/");
  CHECK_FALSE(plan_send(R"({"action":"ping","host":"h1"})", o).ok());
}

TEST_CASE("a targeted action with only an id or name asks the directory") {
  auto by_id =
      plan_send(R"({"action":"stop-container","id":"abc123","timeout":1})", send_options{});
  REQUIRE(by_id.ok());
  CHECK(by_id->route == send_route::lookup);
  CHECK(by_id->lookup_ref == "abc123");
  CHECK(by_id->topic.empty());
  CHECK(by_id->request.body["id"] == "abc123");  // the agent needs it too

  auto by_name = plan_send(R"({"action":"inspect-container","name":"web"})", send_options{});
  REQUIRE(by_name.ok());
  CHECK(by_name->lookup_ref == "web");

  REQUIRE(resolve_host(*by_id, "host2.mesh.test").ok());
  CHECK(by_id->route == send_route::host);
  CHECK(by_id->topic == "req/host/host2.mesh.test/");
  CHECK_FALSE(resolve_host(*by_name, "../evil").ok());
  CHECK_FALSE(resolve_host(*by_name, "").ok());
}

TEST_CASE("a targeted action with nothing to locate it is a usage error") {
  auto p = plan_send(R"({"action":"ping"})", send_options{});
  REQUIRE_FALSE(p.ok());
  CHECK(p.err().code == errc::invalid_argument);
  CHECK(p.err().message.find("'ping' needs a host") != std::string::npos);
}

TEST_CASE("unknown actions pass through: the agent answers them with a 400") {
  auto p = plan_send(R"({"action":"format-disk","host":"host1.mesh.test"})", send_options{});
  REQUIRE(p.ok());
  CHECK(p->request.action == "format-disk");
}

TEST_CASE("malformed messages get clear errors") {
  auto not_json = plan_send("{action: ping", send_options{});
  REQUIRE_FALSE(not_json.ok());
  CHECK(not_json.err().code == errc::malformed);
  CHECK(not_json.err().message.find("not valid JSON") != std::string::npos);

  CHECK(plan_send("[1,2]", send_options{}).err().message.find("JSON object") != std::string::npos);
  CHECK(plan_send(R"({"host":"h1"})", send_options{}).err().message.find("\"action\"") !=
        std::string::npos);
  CHECK_FALSE(plan_send(R"({"action":""})", send_options{}).ok());
  CHECK_FALSE(plan_send(R"({"action":7,"host":"h1"})", send_options{}).ok());
  CHECK(plan_send(R"({"action":"ping","host":3})", send_options{}).err().message.find("\"host\"") !=
        std::string::npos);
  CHECK(plan_send(R"({"action":"ping","host":"req/all"})", send_options{})
            .err()
            .message.find("bad host") != std::string::npos);
  CHECK_FALSE(plan_send("", send_options{}).ok());
}

TEST_CASE("stop and restart wait for the container's stop timeout") {
  using std::chrono::milliseconds;
  auto host = R"("host":"host1.mesh.test")";
  auto stop_default = plan_send(std::string(R"({"action":"stop-container","id":"x",)") + host + "}",
                                send_options{});
  REQUIRE(stop_default.ok());
  CHECK(stop_default->min_wait == milliseconds(15000));  // Docker's 10 s + margin
  auto stop_1 =
      plan_send(std::string(R"({"action":"restart-container","id":"x","timeout":1,)") + host + "}",
                send_options{});
  REQUIRE(stop_1.ok());
  CHECK(stop_1->min_wait == milliseconds(6000));
  auto ping = plan_send(std::string(R"({"action":"ping",)") + host + "}", send_options{});
  REQUIRE(ping.ok());
  CHECK(ping->min_wait == milliseconds(0));
}

TEST_CASE("a new catalogue entry is routed by its target and waits by its wait field") {
  using namespace dockmesh::common::protocol::testing;
  const auto& cat = fixture_catalogue();
  auto echo = plan_send(R"({"action":"fixture-echo","id":"web","pause":20})", send_options{}, cat);
  REQUIRE(echo.ok());
  CHECK(echo->route == send_route::lookup);  // a container action: the directory finds its host
  CHECK(echo->lookup_ref == "web");
  CHECK(echo->min_wait == std::chrono::milliseconds(25000));
  auto scheduled = plan_send(R"({"action":"fixture-admin-only","text":"x"})", send_options{}, cat);
  REQUIRE(scheduled.ok());
  CHECK(scheduled->route == send_route::any);
  CHECK(scheduled->topic == "req/any/");
  // Without the entry, the same message is an unknown action: it needs a host or an id.
  CHECK_FALSE(plan_send(R"({"action":"fixture-admin-only","text":"x"})", send_options{}).ok());
}
