#include "ui-bridge/message_plan.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace dockmesh::bridge;
using dockmesh::common::errc;

namespace {

schema_registry test_schemas() {
  schema_registry reg;
  auto obj = [](nlohmann::json props, nlohmann::json required) {
    return nlohmann::json{{"type", "object"},
                          {"additionalProperties", false},
                          {"properties", props},
                          {"required", required}};
  };
  nlohmann::json id = {{"type", "string"}, {"minLength", 1}};
  reg.add("create-container",
          obj({{"image", {{"type", "string"}}}, {"name", {{"type", "string"}}}}, {"image"}));
  reg.add("start-container", obj({{"id", id}}, {"id"}));
  reg.add("remove-container", obj({{"id", id}, {"force", {{"type", "boolean"}}}}, {"id"}));
  reg.add("delete-container", obj({{"id", id}, {"force", {{"type", "boolean"}}}}, {"id"}));
  reg.add("ping", obj(nlohmann::json::object(), nlohmann::json::array()));
  reg.add("remove-image", obj({{"image", {{"type", "string"}}}}, {"image"}));
  return reg;
}

// The ids are plain strings here: the ownership rule compares them exactly.
const principal alice{"alice", "alice", user_role::user, {}};
const principal root{"root", "root", user_role::admin, {}};

}  // namespace

TEST_CASE("a create without host goes to the scheduler; arguments become the body") {
  auto reg = test_schemas();
  auto p = plan_message({{"action", "create-container"}, {"image", "busybox"}, {"name", "web"}},
                        reg, alice);
  REQUIRE(p.ok());
  CHECK(p->rule.kind == action_kind::scheduled);
  CHECK(p->host.empty());
  CHECK(p->body == nlohmann::json({{"image", "busybox"}, {"name", "web"}}));
  auto env = make_request(alice, *p);
  CHECK(env.action == "create-container");
  CHECK(env.user == "alice");
  CHECK(env.role == "user");
}

TEST_CASE("schema violations are 400 naming the field, before anything is sent") {
  auto reg = test_schemas();
  auto p = plan_message({{"action", "create-container"}, {"image", 7}}, reg, alice);
  REQUIRE_FALSE(p.ok());
  CHECK(p.err().code == errc::invalid_argument);
  CHECK(p.err().message.rfind("image: ", 0) == 0);
  auto extra =
      plan_message({{"action", "start-container"}, {"id", "x"}, {"privileged", true}}, reg, alice);
  REQUIRE_FALSE(extra.ok());
  CHECK(extra.err().message.find("privileged") != std::string::npos);
}

TEST_CASE("broadcasts are refused for every role") {
  auto reg = test_schemas();
  for (const auto& who : {alice, root}) {
    for (auto msg : {nlohmann::json{{"action", "ping"}, {"all", true}},
                     nlohmann::json{{"action", "ping"}, {"host", "*"}}}) {
      auto p = plan_message(msg, reg, who);
      REQUIRE_FALSE(p.ok());
      CHECK(p.err().code == errc::forbidden);
      CHECK(p.err().message.find("broadcast") != std::string::npos);
    }
  }
}

TEST_CASE("unknown and bus-internal actions are 400 naming the action") {
  auto reg = test_schemas();
  for (auto action : {"format-disk", "register", "heartbeat", "reannounce", "probe"}) {
    auto p = plan_message({{"action", action}, {"host", "h1"}}, reg, root);
    REQUIRE_FALSE(p.ok());
    CHECK(p.err().code == errc::invalid_argument);
    CHECK(p.err().message.find(action) != std::string::npos);
  }
  CHECK_FALSE(plan_message({{"host", "h1"}}, reg, root).ok());
  CHECK_FALSE(plan_message(nlohmann::json::array(), reg, root).ok());
  CHECK_FALSE(plan_message({{"action", 5}}, reg, root).ok());
}

TEST_CASE("host actions need a valid host; admin-only actions need an admin") {
  auto reg = test_schemas();
  CHECK(plan_message({{"action", "ping"}}, reg, alice).err().message.find("host") !=
        std::string::npos);
  CHECK(plan_message({{"action", "ping"}, {"host", "a/b"}}, reg, alice).err().code ==
        errc::invalid_argument);
  CHECK(plan_message({{"action", "ping"}, {"host", "h1.mesh.test"}}, reg, alice).ok());
  auto img = nlohmann::json{{"action", "remove-image"}, {"host", "h1"}, {"image", "busybox"}};
  CHECK(plan_message(img, reg, alice).err().code == errc::forbidden);
  CHECK(plan_message(img, reg, root).ok());
}

TEST_CASE("delete-container is an alias of remove-container, a container action") {
  auto reg = test_schemas();
  auto p =
      plan_message({{"action", "delete-container"}, {"id", "abc"}, {"force", true}}, reg, alice);
  REQUIRE(p.ok());
  CHECK(p->rule.kind == action_kind::container);
}

TEST_CASE("ownership: users act on their own containers only, admins on all") {
  nlohmann::json mine = {{"id", "abc"}, {"owner", "alice"}};
  nlohmann::json theirs = {{"id", "def"}, {"owner", "bob"}};
  nlohmann::json orphan = {{"id", "ghi"}};
  CHECK(check_owner(alice, mine, "abc").ok());
  auto e = check_owner(alice, theirs, "def");
  REQUIRE_FALSE(e.ok());
  // Another user's container reads exactly like a missing one; so does an unowned one.
  CHECK(e.err().code == errc::not_found);
  CHECK(e.err().message == "no container 'def'");
  CHECK(check_owner(alice, orphan, "ghi").err().message == "no container 'ghi'");
  for (const auto& c : {mine, theirs, orphan}) CHECK(check_owner(root, c, "x").ok());
}

TEST_CASE("replies keep their code; errors keep their shape") {
  dockmesh::common::envelope r;
  r.re = "req1";
  r.from = "host1.mesh.test";
  r.code = 404;
  r.err = dockmesh::common::make_error(errc::not_found, "no such container");
  auto j = reply_json(r);
  CHECK(j["error"]["code"] == "not_found");
  CHECK(j["error"]["message"] == "no such container");
  CHECK(reply_status(r) == 404);
  r.code = 0;
  CHECK(reply_status(r) == 502);
}

TEST_CASE("placement fields are checked by the bridge, and only go with automatic placement") {
  auto reg = test_schemas();
  nlohmann::json msg = {{"action", "create-container"},
                        {"image", "busybox"},
                        {"constraints", {"region==eu", "disk!=hdd"}},
                        {"strategy", "binpack"},
                        {"candidates", {"h1", "h2"}},
                        {"unique", true}};
  auto p = plan_message(msg, reg, alice);
  REQUIRE(p.ok());
  CHECK(p->body["strategy"] == "binpack");  // passed on: the scheduling broker strips them
  auto bad = msg;
  bad["strategy"] = "fastest";
  CHECK(plan_message(bad, reg, alice).err().message.rfind("strategy: ", 0) == 0);
  bad = msg;
  bad["constraints"] = {"region=eu"};
  CHECK(plan_message(bad, reg, alice).err().message.rfind("constraints[0]: ", 0) == 0);
  bad = msg;
  bad["candidates"] = {"../x"};
  CHECK(plan_message(bad, reg, alice).err().message.rfind("candidates: ", 0) == 0);
  auto targeted = msg;
  targeted["host"] = "h1";
  CHECK(plan_message(targeted, reg, alice).err().message.find("automatic placement") !=
        std::string::npos);
}

TEST_CASE("a user's create naming a privilege-widening field is refused early, by name") {
  auto reg = test_schemas();
  for (const char* f :
       {"privileged", "cap_add", "devices", "sysctls", "security_opt", "pid_mode"}) {
    auto p =
        plan_message({{"action", "create-container"}, {"image", "busybox"}, {f, true}}, reg, alice);
    REQUIRE_FALSE(p.ok());
    CHECK(p.err().code == errc::forbidden);
    CHECK(p.err().message.find(std::string("field '") + f + "'") == 0);
  }
  // Admins are not refused by the policy (the schema then decides).
  auto admin = plan_message(
      {{"action", "create-container"}, {"image", "busybox"}, {"privileged", true}}, reg, root);
  CHECK((admin.ok() || admin.err().code != errc::forbidden));
}

TEST_CASE("container references are plain Docker names or ids") {
  for (const std::string& ok :
       std::vector<std::string>{"abc", "0123456789ab", "/web", "my_web.1-a", std::string(128, 'a')})
    CHECK(valid_container_ref(ok));
  for (const std::string& bad : std::vector<std::string>{
           "", "/", "-x", ".x", "a/b", "../etc", "a b", "a%2fb", "a?b", std::string(129, 'a')})
    CHECK_FALSE(valid_container_ref(bad));
}

TEST_CASE("directory records of any shape never throw in the ownership check") {
  for (const auto& c : {nlohmann::json(), nlohmann::json(5), nlohmann::json::array(),
                        nlohmann::json{{"owner", 7}}, nlohmann::json{{"owner", nullptr}}}) {
    CHECK_NOTHROW((void)check_owner(alice, c, "x"));
    CHECK(check_owner(alice, c, "x").err().code == errc::not_found);
    CHECK(check_owner(root, c, "x").ok());
  }
}
