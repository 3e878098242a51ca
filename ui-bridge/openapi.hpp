// openapi: the OpenAPI 3.0 document of the bridge's own REST API, served at
// GET /api/v1/openapi.json (no token needed). One table here describes every route of
// make_api_router(); bridge_tests checks that the two list the same (method, path) pairs, and
// test_docker_endpoint.py asks the running bridge for each documented route. Pure; any thread.
#pragma once

#include <nlohmann/json.hpp>

namespace dockmesh::bridge {

const nlohmann::json& openapi_document();

}  // namespace dockmesh::bridge
