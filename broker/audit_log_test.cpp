#include "broker/audit_log.hpp"

#include <doctest/doctest.h>

#include "broker/test_support.hpp"

using namespace dockmesh;
using namespace dockmesh::broker;
using nlohmann::json;

namespace {

common::envelope request(const std::string& id, const std::string& action, json body,
                         const std::string& user = "alice") {
  common::envelope e;
  e.id = id;
  e.action = action;
  e.user = user;
  e.role = "user";
  e.body = std::move(body);
  return e;
}

audit_entry bridge_key() {
  return audit_caller("bridge:bridge", "KEY", "127.0.0.1");
}

}  // namespace

TEST_CASE("a state-changing request is recorded with its reply's code, never its secrets") {
  testing::temp_dir dir;
  state_db db(dir.str());
  audit_log log;
  log.attach(db);
  log.on_request(
      bridge_key(), "h1",
      request("r1", "create-container", {{"image", "busybox"}, {"env", {"PASSWORD=hunter2"}}}),
      1000);
  log.on_request(bridge_key(), "h1", request("r1", "create-container", {{"image", "x"}}), 1001);
  log.on_request(bridge_key(), "h1", request("q1", "list-containers", json::object()), 1002);
  log.on_reply("r1", 201);
  log.on_reply("q1", 200);
  log.on_request(
      bridge_key(), "h2",
      request("r2", "pull-image", {{"image", "reg/x"}, {"auth", {{"password", "pw"}}}}, "bob"),
      2000);
  log.tick(3000);
  auto all = log.query(json::object());
  REQUIRE(all);
  REQUIRE((*all)["entries"].size() == 1);  // the pull still waits for its reply
  auto e = (*all)["entries"][0];
  CHECK(e["action"] == "create-container");
  CHECK(e["user"] == "alice");
  CHECK(e["who"] == "bridge:bridge");
  CHECK(e["host"] == "h1");
  CHECK(e["target"] == "busybox");
  CHECK(e["code"] == 201);
  CHECK(e["time"] == 1000);
  log.tick(2000 + audit_log::reply_wait_ms + 1);  // no reply: recorded with code 0
  auto bob = log.query({{"user", "bob"}});
  REQUIRE((*bob)["entries"].size() == 1);
  CHECK((*bob)["entries"][0]["code"] == 0);
  CHECK((*bob)["entries"][0].dump().find("pw") == std::string::npos);
  CHECK(log.query(json::object())->at("entries").dump().find("hunter2") == std::string::npos);
  CHECK((*log.query({{"since", 1500}}))["entries"].size() == 1);
  CHECK((*log.query({{"limit", 1}}))["entries"][0]["user"] == "bob");  // newest first
  CHECK_FALSE(log.query({{"limit", 0}}));
  CHECK_FALSE(log.query({{"since", "yesterday"}}));
}

TEST_CASE("the audit ring keeps the newest entries and survives a reopen") {
  testing::temp_dir dir;
  {
    state_db db(dir.str());
    audit_log log(5);
    log.attach(db);
    for (int i = 0; i < 8; ++i) {
      log.on_control(
          bridge_key(),
          request(std::string("k").append(std::to_string(i)), "keys-revoke", {{"key", "x"}}), 200,
          100 + i);
      log.tick(100 + i);
    }
    auto r = log.query({{"limit", 100}});
    REQUIRE((*r)["entries"].size() == 5);
    CHECK((*r)["entries"][0]["request_id"] == "k7");
    CHECK((*r)["entries"][4]["request_id"] == "k3");
  }
  state_db db(dir.str());
  audit_log log(5);
  log.attach(db);
  log.on_control(bridge_key(), request("k8", "keys-accept", {{"key", "y"}}), 200, 200);
  log.tick(200);
  auto r = log.query({{"limit", 100}});
  REQUIRE((*r)["entries"].size() == 5);
  CHECK((*r)["entries"][0]["request_id"] == "k8");
  CHECK((*r)["entries"][4]["request_id"] == "k4");
}

TEST_CASE("an exec session is recorded twice: when it opened and when it ended") {
  testing::temp_dir dir;
  state_db db(dir.str());
  audit_log log;
  log.attach(db);
  log.on_request(bridge_key(), "h1",
                 request("x1", "exec-start", {{"id", "web-1"}, {"cmd", {"sh"}}}), 1000);
  log.on_reply("x1", 200, 1001);
  CHECK(log.sessions() == 1);
  log.on_reply("x1", 200, 1500);  // a retry answered from the agent's cache: not the end
  CHECK(log.sessions() == 1);
  log.on_reply("x1", 200, 1900, "stream-end");
  CHECK(log.sessions() == 0);
  log.on_request(bridge_key(), "h1",
                 request("x2", "exec-start", {{"id", "web-1"}, {"cmd", {"sh"}}}), 2000);
  log.on_reply("x2", 403, 2001);  // refused (exec disabled): one entry, no session
  CHECK(log.sessions() == 0);
  log.tick(3000);
  auto all = log.query(json::object());
  REQUIRE(all);
  REQUIRE((*all)["entries"].size() == 3);
  auto entries = (*all)["entries"];  // newest first
  CHECK(entries[0]["action"] == "exec-start");
  CHECK(entries[0]["code"] == 403);
  CHECK(entries[1]["action"] == "exec-end");
  CHECK(entries[1]["target"] == "web-1");
  CHECK(entries[1]["user"] == "alice");
  CHECK(entries[2]["action"] == "exec-start");
  CHECK(entries[2]["code"] == 200);
}
