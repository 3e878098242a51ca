// Deny by default, proven over the whole Docker Engine API v1.41: every route is either reachable
// by a named action through endpoint_allowlist or listed as denied, never neither (an unlisted
// prefix falling through an allowlist is how such lists fail), and never both.
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include <doctest/doctest.h>

#include "agent/endpoint_allowlist.hpp"

using namespace dockmesh::agent;

namespace {

using route = std::pair<std::string, std::string>;  // METHOD, /path/{param}

std::set<route> read_routes(const std::string& name) {
  std::ifstream in(std::string(DOCKMESH_AGENT_TESTDATA) + "/" + name);
  REQUIRE_MESSAGE(in.good(), "cannot read testdata/" << name);
  std::set<route> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    route r;
    words >> r.first >> r.second;
    REQUIRE_MESSAGE(!r.second.empty(), "bad line in " << name << ": " << line);
    out.insert(r);
  }
  return out;
}

std::optional<http_method> method_of(const std::string& m) {
  if (m == "GET") return http_method::get;
  if (m == "POST") return http_method::post;
  if (m == "DELETE") return http_method::del;
  if (m == "HEAD") return http_method::head;
  return std::nullopt;  // PUT, PATCH: the transport cannot even send them
}

// "/containers/{id}/json" -> "/containers/x/json": a concrete path the patterns can match.
std::string concrete(const std::string& path) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '{') {
      out += path[i];
      continue;
    }
    out += "x";
    i = path.find('}', i);
  }
  return out;
}

std::vector<std::string_view> actions_reaching(const route& r) {
  std::vector<std::string_view> out;
  auto m = method_of(r.first);
  if (!m) return out;
  for (auto action : allowlisted_actions())
    if (endpoint_allowed(action, *m, concrete(r.second))) out.push_back(action);
  return out;
}

}  // namespace

TEST_CASE("every Docker API v1.41 route is allowed for a named action or explicitly denied") {
  auto routes = read_routes("docker_api_v1.41_routes.txt");
  auto denied = read_routes("docker_routes_denied.txt");
  CHECK(routes.size() >= 100);  // the whole API, not an excerpt
  std::size_t allowed = 0;
  for (const auto& r : routes) {
    auto actions = actions_reaching(r);
    bool listed = denied.count(r) > 0;
    INFO(r.first << " " << r.second);
    CHECK_MESSAGE(!(actions.empty() && !listed), "neither allowed nor denied");
    CHECK_MESSAGE(!(!actions.empty() && listed),
                  "denied, yet action " << actions[0] << " reaches it");
    if (!actions.empty()) ++allowed;
  }
  for (const auto& d : denied) {
    INFO(d.first << " " << d.second);
    CHECK_MESSAGE(routes.count(d), "denied route not in the API's route list");
  }
  // Today 21 routes are reachable; a change to that number is a change to review.
  CHECK(allowed == 25);  // 21 + the four exec routes of exec-start
}

TEST_CASE("every allowlisted endpoint is a route of the API (no pattern aims at nothing)") {
  auto routes = read_routes("docker_api_v1.41_routes.txt");
  for (auto action : allowlisted_actions())
    for (const auto& e : endpoints_for(action)) {
      bool found = false;
      for (const auto& r : routes)
        if (method_of(r.first) == e.method && path_matches(e.pattern, concrete(r.second)))
          found = true;
      INFO(action << " " << to_string(e.method) << " " << e.pattern);
      CHECK(found);
    }
}
