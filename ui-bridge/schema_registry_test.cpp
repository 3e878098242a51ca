#include "ui-bridge/schema_registry.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "ui-bridge/message_plan.hpp"
#include "ui-bridge/test_support.hpp"

using namespace dockmesh::bridge;
using dockmesh::common::errc;

namespace {

const nlohmann::json create_schema = nlohmann::json::parse(R"({
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "image": {"type": "string", "minLength": 1},
    "env": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*="}},
    "instances": {"type": "integer", "minimum": 1, "maximum": 50}
  },
  "required": ["image"]
})");

std::string message_of(const dockmesh::common::result<void>& r) {
  return r.ok() ? std::string() : r.err().message;
}

}  // namespace

TEST_CASE("a valid value passes; violations name the field") {
  schema_registry reg;
  reg.add("create-container", create_schema);
  CHECK(reg.validate("create-container", {{"image", "busybox"}, {"instances", 2}}).ok());
  auto wrong_type = reg.validate("create-container", {{"image", 42}});
  REQUIRE_FALSE(wrong_type.ok());
  CHECK(wrong_type.err().code == errc::invalid_argument);
  CHECK(message_of(wrong_type).rfind("image: ", 0) == 0);
  CHECK(message_of(reg.validate("create-container", {{"image", "x"}, {"instances", 0}}))
            .rfind("instances: ", 0) == 0);
  CHECK(message_of(reg.validate("create-container", {{"image", "x"}, {"env", {"OK=1", "1BAD"}}}))
            .rfind("env[1]: ", 0) == 0);
  auto missing = message_of(reg.validate("create-container", nlohmann::json::object()));
  CHECK(missing.find("image") != std::string::npos);
  auto extra = message_of(reg.validate("create-container", {{"image", "x"}, {"privileged", true}}));
  CHECK(extra.find("privileged") != std::string::npos);
}

TEST_CASE("an unknown schema name is not_found") {
  schema_registry reg;
  CHECK(reg.validate("nope", {}).err().code == errc::not_found);
}

TEST_CASE("a directory of schemas loads, with $refs to sibling files") {
  test::temp_dir dir;
  std::ofstream(dir.path + "/common.json")
      << R"({"definitions": {"id": {"type": "string", "minLength": 1}}})";
  std::ofstream(dir.path + "/start-container.json")
      << R"({"type": "object", "properties": {"id": {"$ref": "common.json#/definitions/id"}}, "required": ["id"]})";
  auto reg = schema_registry::load_dir(dir.path);
  CHECK(reg.has("start-container"));
  CHECK(reg.validate("start-container", {{"id", "abc"}}).ok());
  CHECK(message_of(reg.validate("start-container", {{"id", ""}})).rfind("id: ", 0) == 0);
}

TEST_CASE("a broken schema file stops start-up with its name") {
  test::temp_dir dir;
  std::ofstream(dir.path + "/ping.json") << "{ not json";
  CHECK_THROWS_WITH_AS(schema_registry::load_dir(dir.path), doctest::Contains("ping.json"),
                       std::runtime_error);
  CHECK_THROWS(schema_registry::load_dir(dir.path + "/missing"));
}

TEST_CASE("every catalogue action a client may send has its schemas in schemas/") {
  // A missing or empty schemas/ folder is a failure, not a skip.
  auto reg = schema_registry::load_dir(DOCKMESH_SCHEMAS_SOURCE_DIR);
  REQUIRE_FALSE(reg.names().empty());
  using dockmesh::common::protocol::catalogue;
  using dockmesh::common::protocol::message_kind;
  int client_actions = 0;
  for (const auto* spec : catalogue::builtin().of_kind(message_kind::agent_action)) {
    CAPTURE(spec->name);
    auto rule = find_action_rule(spec->name);
    REQUIRE(rule.has_value());
    ++client_actions;
    CHECK(rule->body_schema == spec->body_schema);
    CHECK(reg.has(spec->body_schema));
    CHECK(reg.has(spec->reply_schema));
  }
  CHECK(client_actions == 21);  // 18 + the stream openers follow-logs, follow-stats, exec-start
}

TEST_CASE("a loaded schema's document is kept for GET /api/v1/schemas/{name}") {
  auto reg = schema_registry::load_dir(DOCKMESH_SCHEMAS_SOURCE_DIR);
  const nlohmann::json* doc = reg.document("create-container");
  REQUIRE(doc != nullptr);
  CHECK((*doc)["title"] == "create-container");
  CHECK((*doc)["properties"].contains("ports"));
  CHECK(reg.document("no-such-schema") == nullptr);
}
