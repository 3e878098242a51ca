// The OpenAPI document lists exactly the REST API's routes: same (method, path) pairs as the
// router.
#include <set>

#include <doctest/doctest.h>

#include "ui-bridge/openapi.hpp"
#include "ui-bridge/router.hpp"

using namespace dockmesh::bridge;

TEST_CASE("openapi: every route of the router is documented, and nothing else") {
  std::set<std::pair<std::string, std::string>> routed, documented;
  for (const auto& [method, pattern] : make_api_router().routes()) routed.emplace(method, pattern);
  const auto& doc = openapi_document();
  CHECK(doc["openapi"] == "3.0.3");
  // `path` is a reference, not a structured binding: CHECK_MESSAGE's message is a lambda, which
  // clang 14 cannot make capture a binding.
  for (const auto& path_item : doc["paths"].items()) {
    const std::string& path = path_item.key();
    for (const auto& [method, op] : path_item.value().items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(c - 'a' + 'A');
      documented.emplace(m, path);
      CHECK_MESSAGE(op.contains("responses"), path);
    }
  }
  CHECK(routed == documented);
  // 25 (with GET /api/v1/schemas/{name}) + 9 projects and services + 2 stats history + 4 host
  // policies and quotas + 3 teams
  CHECK(routed.size() == 43);
  // Path parameters are declared for every placeholder.
  const auto& remove = doc["paths"]["/api/v1/containers/{id}"]["delete"];
  REQUIRE(remove["parameters"].is_array());
  CHECK(remove["parameters"][0]["name"] == "id");
  CHECK(doc["paths"]["/api/v1/login"]["post"]["security"].empty());
}

TEST_CASE(
    "openapi: a job's shape, with the service-update kind, is what GET /api/v1/jobs/{id} gives") {
  const auto& doc = openapi_document();
  const auto& job = doc["components"]["schemas"]["job"];
  CHECK(job["properties"]["kind"]["enum"] ==
        nlohmann::json({"create-container", "pull-image", "service-update"}));
  CHECK(job["properties"]["state"]["enum"] == nlohmann::json({"running", "done", "failed"}));
  const auto& ok = doc["paths"]["/api/v1/jobs/{id}"]["get"]["responses"]["200"];
  CHECK(ok["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/job");
  CHECK(ok["description"] == "success");
}
