#include "ui-bridge/router.hpp"

namespace dockmesh::bridge {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query strings use '+' for spaces and may carry an encoded '/'; path segments may not.
std::optional<std::string> decode(std::string_view s, bool query) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && query) {
      out.push_back(' ');
    } else if (s[i] != '%') {
      // A raw NUL never reaches a handler (Beast refuses it on the wire, but the router does not
      // rely on that): a parameter becomes a container id, a user name or a host.
      if (s[i] == '\0') return std::nullopt;
      out.push_back(s[i]);
    } else {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      char c = static_cast<char>(hi * 16 + lo);
      if (c == '\0' || (c == '/' && !query)) return std::nullopt;
      out.push_back(c);
      i += 2;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
  return decode(s, false);
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    auto k = decode(pair.substr(0, eq), true);
    auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                          : decode(pair.substr(eq + 1), true);
    if (k && v && !k->empty()) out[*k] = *v;
  }
  return out;
}

void router::add(std::string method, std::string_view pattern, route_id id) {
  route r{method, {}, id, std::string(pattern), method + " " + std::string(pattern)};
  for (auto seg : split_path(pattern)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
}

std::optional<std::map<std::string, std::string>> router::match(
    const route& r, const std::vector<std::string_view>& path) {
  if (r.segments.size() != path.size()) return std::nullopt;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = r.segments[i];
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      auto value = percent_decode(path[i]);
      if (!value || value->empty()) return std::nullopt;
      params[seg.substr(1, seg.size() - 2)] = std::move(*value);
    } else if (seg != path[i]) {
      return std::nullopt;
    }
  }
  return params;
}

std::vector<std::pair<std::string, std::string>> router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

route_result router::find(std::string_view method, std::string_view path) const {
  auto parts = split_path(path);
  route_result out;
  for (const auto& r : routes_) {
    auto params = match(r, parts);
    if (!params) continue;
    if (r.method == method) {
      out.match = route_match{r.id, r.label, std::move(*params)};
      return out;
    }
    out.miss = route_miss::method_not_allowed;
    if (out.allowed.find(r.method) == std::string::npos)
      out.allowed += (out.allowed.empty() ? "" : ", ") + r.method;
  }
  return out;
}

router make_api_router() {
  router r;
  r.add("POST", "/api/v1/login", route_id::login);
  r.add("GET", "/api/v1/whoami", route_id::whoami);
  r.add("GET", "/api/v1/tokens", route_id::tokens_list);
  r.add("POST", "/api/v1/tokens", route_id::tokens_create);
  r.add("DELETE", "/api/v1/tokens/{id}", route_id::tokens_revoke);
  r.add("GET", "/api/v1/users", route_id::users_list);
  r.add("POST", "/api/v1/users", route_id::users_create);
  r.add("DELETE", "/api/v1/users/{name}", route_id::users_remove);
  r.add("PUT", "/api/v1/users/{name}/password", route_id::users_password);
  r.add("GET", "/api/v1/hosts", route_id::hosts_list);
  r.add("GET", "/api/v1/audit", route_id::audit_list);
  r.add("GET", "/api/v1/hosts/{fqdn}", route_id::host_get);
  r.add("GET", "/api/v1/containers", route_id::containers_list);
  r.add("POST", "/api/v1/containers", route_id::containers_create);
  r.add("GET", "/api/v1/containers/{id}", route_id::container_get);
  r.add("DELETE", "/api/v1/containers/{id}", route_id::container_remove);
  r.add("GET", "/api/v1/jobs/{id}", route_id::jobs_get);
  r.add("GET", "/api/v1/images", route_id::images_list);
  r.add("POST", "/api/v1/images/pull", route_id::images_pull);
  r.add("POST", "/api/v1/messages", route_id::messages);
  r.add("GET", "/api/v1/catalogue", route_id::catalogue);
  r.add("GET", "/api/v1/schemas/{name}", route_id::schema_get);
  r.add("GET", "/api/v1/policy", route_id::policy_get);
  // Projects and services.
  r.add("GET", "/api/v1/projects", route_id::projects_list);
  r.add("POST", "/api/v1/projects", route_id::projects_create);
  r.add("DELETE", "/api/v1/projects/{id}", route_id::project_delete);
  r.add("GET", "/api/v1/services", route_id::services_list);
  r.add("POST", "/api/v1/services", route_id::services_create);
  r.add("GET", "/api/v1/services/{id}", route_id::service_get);
  r.add("PATCH", "/api/v1/services/{id}", route_id::service_update);
  r.add("DELETE", "/api/v1/services/{id}", route_id::service_delete);
  r.add("POST", "/api/v1/services/{id}/scale", route_id::service_scale);
  // Host pools, teams, cordon, drain and quotas.
  r.add("GET", "/api/v1/host-policies", route_id::host_policies_list);
  r.add("PUT", "/api/v1/hosts/{fqdn}/policy", route_id::host_policy_set);
  r.add("GET", "/api/v1/quotas", route_id::quotas_list);
  r.add("PUT", "/api/v1/quotas/{user}", route_id::quota_set);
  r.add("GET", "/api/v1/teams", route_id::teams_list);
  r.add("PUT", "/api/v1/teams/{name}", route_id::team_set);
  r.add("DELETE", "/api/v1/teams/{name}", route_id::team_delete);
  // Stats history.
  r.add("GET", "/api/v1/containers/{id}/stats/history", route_id::container_stats_history);
  r.add("GET", "/api/v1/hosts/{fqdn}/stats/history", route_id::host_stats_history);
  r.add("GET", "/api/v1/ws", route_id::websocket);
  r.add("GET", "/api/v1/openapi.json", route_id::openapi);
  return r;
}

}  // namespace dockmesh::bridge
