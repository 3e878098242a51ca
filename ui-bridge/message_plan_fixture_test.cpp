// A new agent action is one catalogue entry: the bridge's plan routes, validates and refuses it
// to the wrong role from common/protocol/fixture_catalogue.hpp alone, and GET /api/v1/catalogue's
// document lists it for the web UI.
#include <doctest/doctest.h>

#include "common/protocol/fixture_catalogue.hpp"
#include "ui-bridge/message_plan.hpp"

using namespace dockmesh::bridge;
using dockmesh::common::errc;
using namespace dockmesh::common::protocol::testing;

namespace {

schema_registry fixture_schemas() {
  schema_registry reg;
  reg.add(std::string(fixture_echo), fixture_echo_schema());
  return reg;
}

const principal alice{"alice", "u-alice", user_role::user, {}};
const principal root{"root", "u-root", user_role::admin, {}};

nlohmann::json echo(nlohmann::json fields) {
  fields["action"] = fixture_echo;
  return fields;
}

}  // namespace

TEST_CASE("a new catalogue entry is planned with its target, timeout and schema") {
  auto reg = fixture_schemas();
  auto p = plan_message(echo({{"id", "web"}, {"text", "hi"}}), reg, alice, fixture_catalogue());
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.err().message));
  CHECK(p->rule.kind == action_kind::container);
  CHECK(p->rule.timeout == std::chrono::seconds(7));
  CHECK(p->body == nlohmann::json({{"id", "web"}, {"text", "hi"}}));
  CHECK(make_request(alice, *p).action == fixture_echo);
  // The built-in catalogue does not know it: nothing leaks out of the test.
  CHECK(plan_message(echo({{"id", "web"}, {"text", "hi"}}), reg, alice)
            .err()
            .message.find("unknown action") != std::string::npos);
}

TEST_CASE("a new catalogue entry's body is validated against its schema") {
  auto reg = fixture_schemas();
  auto too_long = plan_message(echo({{"id", "web"}, {"text", std::string(17, 'x')}}), reg, alice,
                               fixture_catalogue());
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.err().message.rfind("text: ", 0) == 0);
  auto extra = plan_message(echo({{"id", "web"}, {"text", "hi"}, {"privileged", true}}), reg, alice,
                            fixture_catalogue());
  REQUIRE_FALSE(extra.ok());
  CHECK(extra.err().message.find("privileged") != std::string::npos);
  auto missing = plan_message(echo({{"text", "hi"}}), reg, alice, fixture_catalogue());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().code == errc::invalid_argument);
}

TEST_CASE("a new admin-only entry is refused to users and routed for admins") {
  auto reg = fixture_schemas();
  nlohmann::json msg = {{"action", fixture_admin}, {"id", "web"}, {"text", "hi"}};
  auto user = plan_message(msg, reg, alice, fixture_catalogue());
  REQUIRE_FALSE(user.ok());
  CHECK(user.err().code == errc::forbidden);
  auto admin = plan_message(msg, reg, root, fixture_catalogue());
  REQUIRE(admin.ok());
  CHECK(admin->rule.kind == action_kind::scheduled);
  CHECK(admin->host.empty());
}

TEST_CASE("the catalogue document lists a new entry for the web UI") {
  auto doc = dockmesh::common::protocol::to_json(fixture_catalogue());
  bool found = false;
  for (const auto& m : doc["messages"])
    if (m["name"] == fixture_echo) {
      found = true;
      CHECK(m["target"] == "container");
      CHECK(m["label"] == "echo");
      CHECK(m["senders"] == nlohmann::json{"bridge", "admin"});
    }
  CHECK(found);
}
