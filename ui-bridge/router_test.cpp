#include "ui-bridge/router.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::bridge;

TEST_CASE("routes match method and path and capture placeholders") {
  auto r = make_api_router();
  auto m = r.find("GET", "/api/v1/containers/abc123");
  REQUIRE(m.match);
  CHECK(m.match->id == route_id::container_get);
  CHECK(m.match->params.at("id") == "abc123");
  m = r.find("DELETE", "/api/v1/containers/abc123");
  REQUIRE(m.match);
  CHECK(m.match->id == route_id::container_remove);
  m = r.find("POST", "/api/v1/containers");
  REQUIRE(m.match);
  CHECK(m.match->id == route_id::containers_create);
  m = r.find("POST", "/api/v1/images/pull");
  REQUIRE(m.match);
  CHECK(m.match->id == route_id::images_pull);
  m = r.find("PUT", "/api/v1/users/alice/password");
  REQUIRE(m.match);
  CHECK(m.match->params.at("name") == "alice");
}

TEST_CASE("a trailing slash is the same path") {
  auto r = make_api_router();
  auto m = r.find("GET", "/api/v1/hosts/");
  REQUIRE(m.match);
  CHECK(m.match->id == route_id::hosts_list);
}

TEST_CASE("a known path under the wrong method is 405 with the allowed methods") {
  auto r = make_api_router();
  auto m = r.find("PATCH", "/api/v1/containers/abc");
  CHECK_FALSE(m.match);
  CHECK(m.miss == route_miss::method_not_allowed);
  CHECK(m.allowed == "GET, DELETE");
  m = r.find("GET", "/api/v1/login");
  CHECK(m.miss == route_miss::method_not_allowed);
  CHECK(m.allowed == "POST");
}

TEST_CASE("unknown paths are not found") {
  auto r = make_api_router();
  for (auto p : {"/api/v1", "/api/v1/nothing", "/api/v1/containers/a/b", "/api/v2/hosts", ""})
    CHECK(r.find("GET", p).miss == route_miss::not_found);
}

TEST_CASE("placeholders are percent-decoded, and an encoded slash or NUL is refused") {
  auto r = make_api_router();
  auto m = r.find("GET", "/api/v1/containers/my%2Dweb");
  REQUIRE(m.match);
  CHECK(m.match->params.at("id") == "my-web");
  CHECK_FALSE(r.find("GET", "/api/v1/containers/..%2F..%2Fetc").match);
  CHECK_FALSE(r.find("GET", "/api/v1/containers/a%00b").match);
  CHECK_FALSE(r.find("GET", "/api/v1/containers/bad%zz").match);
  CHECK_FALSE(r.find("GET", "/api/v1/containers/trail%4").match);
}

TEST_CASE("query strings parse into decoded pairs") {
  auto q = parse_query("host=host1.mesh.test&owner=al%69ce&flag&x=a+b&bad=%zz&=v");
  CHECK(q.at("host") == "host1.mesh.test");
  CHECK(q.at("owner") == "alice");
  CHECK(q.at("flag") == "");
  CHECK(q.at("x") == "a b");
  CHECK(q.count("bad") == 0);
  CHECK(q.size() == 4);
}

TEST_CASE("projects and services routes") {
  auto r = make_api_router();
  auto m = r.find("POST", "/api/v1/services/s0123/scale");
  REQUIRE(m.match);
  CHECK(m.match->id == route_id::service_scale);
  CHECK(m.match->params.at("id") == "s0123");
  m = r.find("PATCH", "/api/v1/services/s0123");
  REQUIRE(m.match);
  CHECK(m.match->id == route_id::service_update);
  m = r.find("PUT", "/api/v1/projects/shop");
  CHECK(m.miss == route_miss::method_not_allowed);
  CHECK(m.allowed == "DELETE");
}
