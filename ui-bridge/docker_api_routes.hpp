// docker_api_routes: the routes of the Docker-Engine-API-compatible endpoint (docs/docker-api.md).
// Maps (method, path) -- with or without the `/v1.NN` version prefix -- to the route it implements
// and the path's parameters. Image names may contain '/', so `/images/{name}/json` and
// `DELETE /images/{name}` take every segment between. Anything else is unimplemented: the endpoint
// answers 501 naming it (deny by default). Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockmesh::bridge {

enum class docker_route {
  ping,
  version,
  info,
  containers_list,
  container_create,
  container_inspect,
  container_logs,
  container_stats,
  container_start,
  container_stop,
  container_restart,
  container_kill,
  container_wait,
  container_remove,
  images_list,
  image_create,
  image_inspect,
  image_remove,
  events,
};

struct docker_route_match {
  docker_route route;
  std::string id;  // container id/name, or image name; empty for routes without one
};

// "/v1.41/containers/json" -> "/containers/json"; a path without a prefix is returned as is.
std::string_view strip_api_version(std::string_view path);
// nullopt: not implemented here (501), or a parameter that does not decode.
std::optional<docker_route_match> find_docker_route(std::string_view method, std::string_view path);
// Every implemented route as "METHOD /pattern" (HEAD /_ping included), for tests and docs.
std::vector<std::string> implemented_docker_routes();

}  // namespace dockmesh::bridge
