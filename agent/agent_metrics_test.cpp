#include "agent/agent_metrics.hpp"

#include <doctest/doctest.h>

using dockmesh::agent::docker_endpoint_label;

TEST_CASE("agent_metrics: Docker paths become bounded endpoint labels") {
  CHECK(docker_endpoint_label("/_ping") == "/_ping");
  CHECK(docker_endpoint_label("/version") == "/version");
  CHECK(docker_endpoint_label("/containers/json?all=1&filters=%7B%7D") == "/containers/json");
  CHECK(docker_endpoint_label("/containers/create?name=web") == "/containers/create");
  CHECK(docker_endpoint_label("/containers/0123456789ab/start") == "/containers/{id}/start");
  CHECK(docker_endpoint_label("/containers/web?force=1") == "/containers/{id}");
  CHECK(docker_endpoint_label("/images/localhost:5000/busybox:latest/json") ==
        "/images/{name}/json");
  CHECK(docker_endpoint_label("/images/localhost:5000/busybox:latest") == "/images/{name}");
  CHECK(docker_endpoint_label("/images/create?fromImage=x") == "/images/create");
  CHECK(docker_endpoint_label("/system/df") == "/system/df");
  CHECK(docker_endpoint_label("/events?since=1") == "/events");
  CHECK(docker_endpoint_label("/") == "/");
  CHECK(docker_endpoint_label("/Weird%2F..") == "/{other}");
}
