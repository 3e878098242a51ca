// router: maps (method, path) to a route id plus the path's named segments, for the REST API.
// Patterns are literal segments and `{name}` placeholders ("/api/v1/containers/{id}"); a
// placeholder matches one non-empty segment. A path that matches a pattern under another method
// is reported as method_not_allowed (405) with the allowed methods, not as not found. Built once at
// start-up, then read-only: safe from any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockmesh::bridge {

enum class route_id {
  login,
  whoami,
  tokens_list,
  tokens_create,
  tokens_revoke,
  users_list,
  users_create,
  users_remove,
  users_password,
  hosts_list,
  audit_list,
  host_get,
  containers_list,
  containers_create,
  container_get,
  container_remove,
  jobs_get,
  images_list,
  images_pull,
  messages,
  catalogue,
  schema_get,
  policy_get,
  // Projects and services (service_api).
  projects_list,
  projects_create,
  project_delete,
  services_list,
  services_create,
  service_get,
  service_update,
  service_delete,
  service_scale,
  // Host pools, teams and quotas (service_api).
  host_policies_list,
  host_policy_set,
  quotas_list,
  quota_set,
  teams_list,
  team_set,
  team_delete,
  // Stats history (mesh_api_history.cpp).
  container_stats_history,
  host_stats_history,
  websocket,
  openapi,
};

struct route_match {
  route_id id;
  std::string label;  // "GET /api/v1/containers/{id}": the route, never the raw path
  std::map<std::string, std::string> params;
};

enum class route_miss { not_found, method_not_allowed };

struct route_result {
  std::optional<route_match> match;
  route_miss miss = route_miss::not_found;
  std::string allowed;  // "GET, DELETE" when method_not_allowed
};

class router {
 public:
  void add(std::string method, std::string_view pattern, route_id id);
  route_result find(std::string_view method, std::string_view path) const;
  // Every route as (method, pattern), in the order added (the OpenAPI document is checked on it).
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;
    route_id id;
    std::string pattern;
    std::string label;  // method and pattern, for metrics
  };
  static std::optional<std::map<std::string, std::string>> match(
      const route& r, const std::vector<std::string_view>& path);
  std::vector<route> routes_;
};

// The dockmesh REST API's routes.
router make_api_router();

// Splits "/a/b/c" into {"a","b","c"}; a trailing slash is ignored.
std::vector<std::string_view> split_path(std::string_view path);
// Decodes %XX escapes; nullopt on a malformed escape or an encoded '/' or NUL.
std::optional<std::string> percent_decode(std::string_view s);
// Parses "a=1&b=2" (after '?'); later keys win; undecodable pairs are skipped.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace dockmesh::bridge
