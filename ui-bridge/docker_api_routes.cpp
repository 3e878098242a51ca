#include "ui-bridge/docker_api_routes.hpp"

#include <array>

#include "ui-bridge/router.hpp"

namespace dockmesh::bridge {

namespace {

struct fixed_route {
  std::string_view method;
  std::string_view pattern;  // segments; "{id}" = one segment
  docker_route route;
};

constexpr std::array<fixed_route, 16> fixed_routes = {{
    {"GET", "/_ping", docker_route::ping},
    {"HEAD", "/_ping", docker_route::ping},
    {"GET", "/version", docker_route::version},
    {"GET", "/info", docker_route::info},
    {"GET", "/events", docker_route::events},
    {"GET", "/containers/json", docker_route::containers_list},
    {"POST", "/containers/create", docker_route::container_create},
    {"GET", "/containers/{id}/json", docker_route::container_inspect},
    {"GET", "/containers/{id}/logs", docker_route::container_logs},
    {"GET", "/containers/{id}/stats", docker_route::container_stats},
    {"POST", "/containers/{id}/start", docker_route::container_start},
    {"POST", "/containers/{id}/stop", docker_route::container_stop},
    {"POST", "/containers/{id}/restart", docker_route::container_restart},
    {"POST", "/containers/{id}/kill", docker_route::container_kill},
    {"POST", "/containers/{id}/wait", docker_route::container_wait},
    {"DELETE", "/containers/{id}", docker_route::container_remove},
}};

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<std::string> match_fixed(const fixed_route& r,
                                       const std::vector<std::string_view>& parts) {
  auto want = split_path(r.pattern);
  if (want.size() != parts.size()) return std::nullopt;
  std::string id;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (want[i] == "{id}") {
      auto v = percent_decode(parts[i]);
      if (!v || v->empty()) return std::nullopt;
      id = std::move(*v);
    } else if (want[i] != parts[i]) {
      return std::nullopt;
    }
  }
  return id;
}

// The image name spread over parts[from, to): decoded segments joined with '/'.
std::optional<std::string> image_name(const std::vector<std::string_view>& parts, std::size_t from,
                                      std::size_t to) {
  if (from >= to) return std::nullopt;
  std::string out;
  for (std::size_t i = from; i < to; ++i) {
    auto v = percent_decode(parts[i]);
    if (!v || v->empty()) return std::nullopt;
    out += (i == from ? "" : "/") + *v;
  }
  return out;
}

std::optional<docker_route_match> match_image(std::string_view method,
                                              const std::vector<std::string_view>& parts) {
  if (parts.size() < 2 || parts[0] != "images") return std::nullopt;
  if (parts.size() == 2 && parts[1] == "json")
    return method == "GET" ? std::optional(docker_route_match{docker_route::images_list, {}})
                           : std::nullopt;
  if (parts.size() == 2 && parts[1] == "create")
    return method == "POST" ? std::optional(docker_route_match{docker_route::image_create, {}})
                            : std::nullopt;
  if (method == "GET" && parts.size() >= 3 && parts.back() == "json") {
    auto name = image_name(parts, 1, parts.size() - 1);
    if (name) return docker_route_match{docker_route::image_inspect, *name};
  }
  if (method == "DELETE") {
    auto name = image_name(parts, 1, parts.size());
    // "/images/prune" and friends are POSTs; a DELETE names an image.
    if (name) return docker_route_match{docker_route::image_remove, *name};
  }
  return std::nullopt;
}

}  // namespace

std::string_view strip_api_version(std::string_view path) {
  // "/v1.41/..." : 'v', digits, '.', digits.
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v') return path;
  auto slash = path.find('/', 1);
  std::string_view v = path.substr(2, (slash == std::string_view::npos ? path.size() : slash) - 2);
  auto dot = v.find('.');
  if (dot == std::string_view::npos || !digits(v.substr(0, dot)) || !digits(v.substr(dot + 1)))
    return path;
  return slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
}

std::optional<docker_route_match> find_docker_route(std::string_view method,
                                                    std::string_view path) {
  auto parts = split_path(strip_api_version(path));
  for (const auto& r : fixed_routes) {
    if (r.method != method) continue;
    if (auto id = match_fixed(r, parts)) return docker_route_match{r.route, std::move(*id)};
  }
  return match_image(method, parts);
}

std::vector<std::string> implemented_docker_routes() {
  std::vector<std::string> out;
  for (const auto& r : fixed_routes)
    out.push_back(std::string(r.method) + " " + std::string(r.pattern));
  for (const char* extra : {"GET /images/json", "POST /images/create", "GET /images/{name}/json",
                            "DELETE /images/{name}"})
    out.emplace_back(extra);
  return out;
}

}  // namespace dockmesh::bridge
