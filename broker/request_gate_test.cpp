#include "broker/request_gate.hpp"

#include <doctest/doctest.h>

#include "broker/inflight_requests.hpp"
#include "broker/placement_ledger.hpp"
#include "broker/test_support.hpp"

using namespace dockmesh;
using namespace dockmesh::broker;
using nlohmann::json;

namespace {

common::envelope request(std::string action, json body = json::object(), std::string id = "r1") {
  common::envelope e;
  e.id = std::move(id);
  e.action = std::move(action);
  e.from = "ctl-1";
  e.reply_to = "rep/ctl-1/";
  e.user = "alice";
  e.role = "user";
  e.body = std::move(body);
  return e;
}

json inventory(const std::string& fqdn, std::int64_t seq, json containers) {
  return {{"fqdn", fqdn}, {"incarnation", 1}, {"sequence", seq}, {"containers", containers}};
}

}  // namespace

TEST_CASE("request_gate: unknown host 404 once settled, down host 503 naming it and since when") {
  host_directory hosts(directory_timing{1000, 100000});
  container_index containers;
  REQUIRE(hosts.apply("register", testing::host_record("a.test", 1, 1), 0));
  auto ping = request("ping");
  CHECK_FALSE(check_targeted("a.test", ping, hosts, containers, true));
  CHECK_FALSE(check_targeted("b.test", ping, hosts, containers, false));  // not settled yet
  auto unknown = check_targeted("b.test", ping, hosts, containers, true);
  REQUIRE(unknown);
  CHECK(unknown->code == 404);
  CHECK(unknown->message.find("b.test") != std::string::npos);
  (void)hosts.tick(5000);
  auto down = check_targeted("a.test", ping, hosts, containers, true);
  REQUIRE(down);
  CHECK(down->code == 503);
  CHECK(down->message.rfind("host a.test is down since 1970-01-01T00:00:0", 0) == 0);
}

TEST_CASE("request_gate: a name taken on any host is refused with that host, unless per host") {
  container_index containers;
  REQUIRE(containers.apply_inventory(
      inventory("a.test", 1,
                json::array({{{"id", "c1"}, {"name", "/web"}, {"request", "old"}},
                             {{"id", "c2"}, {"name", "batch-2"}, {"request", "x-1"}}}))));
  auto no =
      check_name_free(request("create-container", {{"image", "i"}, {"name", "web"}}), containers);
  REQUIRE(no);
  CHECK(no->code == 409);
  CHECK(no->message.find("host a.test") != std::string::npos);
  CHECK_FALSE(check_name_free(
      request("create-container", {{"image", "i"}, {"name", "web"}, {"per_host_names", true}}),
      containers));
  CHECK_FALSE(
      check_name_free(request("create-container", {{"image", "i"}, {"name", "db"}}), containers));
  // instances: names -1..-N, or from first_instance
  CHECK(check_name_free(
      request("create-container", {{"image", "i"}, {"name", "batch"}, {"instances", 3}}),
      containers));
  CHECK_FALSE(check_name_free(
      request("create-container",
              {{"image", "i"}, {"name", "batch"}, {"instances", 2}, {"first_instance", 3}}),
      containers));
  // a retry of the request that made the container is not a conflict
  CHECK_FALSE(check_name_free(request("create-container", {{"image", "i"}, {"name", "web"}}, "old"),
                              containers));
  CHECK_FALSE(check_name_free(
      request("create-container", {{"image", "i"}, {"name", "batch"}, {"instances", 3}}, "x"),
      containers));
}

TEST_CASE("container_index: an ambiguous name lists its candidates") {
  container_index containers;
  REQUIRE(containers.apply_inventory(
      inventory("a.test", 1, json::array({{{"id", "aaa1"}, {"name", "web"}}}))));
  REQUIRE(containers.apply_inventory(
      inventory("b.test", 1, json::array({{{"id", "bbb1"}, {"name", "web"}}}))));
  auto r = containers.lookup("web", "");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == common::errc::conflict);
  CHECK(r.err().message.find("aaa1 on a.test (web)") != std::string::npos);
  CHECK(r.err().message.find("bbb1 on b.test (web)") != std::string::npos);
}

TEST_CASE("inflight_requests: a host going down answers what waits on it, once") {
  inflight_requests inflight("broker-1");
  inflight.add("a.test", request("ping", json::object(), "r1"), 0);
  inflight.add("b.test", request("ping", json::object(), "r2"), 0);
  auto out = inflight.host_down("a.test", "host a.test is down");
  REQUIRE(out.size() == 1);
  CHECK(out[0].topic == "rep/ctl-1/");
  CHECK(out[0].env.re == "r1");
  CHECK(out[0].env.code == 503);
  CHECK(out[0].env.err->message == "host a.test is down");
  CHECK(inflight.host_down("a.test", "again").empty());
  inflight.expire(inflight_requests::default_wait_ms + 1);
  CHECK(inflight.size() == 0);
  CHECK(inflight.host_down("b.test", "late").empty());
}

TEST_CASE("placement_ledger: in-flight instances count until the inventory shows them") {
  placement_ledger ledger;
  ledger.add("a.test", "r1", 2, 1000);
  ledger.add("a.test", "r1", 2, 1000);  // a retry counts once
  ledger.add("b.test", "r2", 1, 1000);
  ledger.add("b.test", "r3", 1, 2000);
  CHECK(ledger.by_host().at("a.test") == 2);
  CHECK(ledger.by_host().at("b.test") == 2);
  ledger.settle_seen("a.test", {"r1"});
  CHECK(ledger.by_host().count("a.test") == 0);
  ledger.expire(999);
  CHECK(ledger.by_host().at("b.test") == 2);
  ledger.expire(1000);  // r2 expires, r3 not yet
  CHECK(ledger.by_host().at("b.test") == 1);
  ledger.settle("r3");
  ledger.expire(5000);  // r3's expiry entry went with it: nothing left to expire twice
  CHECK(ledger.empty());
  CHECK(ledger.by_host().empty());
}

TEST_CASE("inflight_requests: an answered request is not refused when its host goes down") {
  inflight_requests inflight("broker-1");
  inflight.add("a.test", request("ping", json::object(), "r1"), 0);
  inflight.add("a.test", request("ping", json::object(), "r2"), 0);
  inflight.answered("r1");
  auto out = inflight.host_down("a.test", "down");
  REQUIRE(out.size() == 1);
  CHECK(out[0].env.re == "r2");
  inflight.expire(1);
  CHECK(inflight.size() == 0);
  inflight.answered("r2");  // gone already: nothing to do
}
