#include "agent/endpoint_allowlist.hpp"

#include <algorithm>
#include <array>

#include "common/protocol/catalogue.hpp"

namespace dockmesh::agent {
namespace {

using m = http_method;

constexpr docker_endpoint owner_check{m::get, "/containers/{}/json"};

constexpr std::array ping{docker_endpoint{m::get, "/_ping"}};
constexpr std::array host_info{docker_endpoint{m::get, "/info"},
                               docker_endpoint{m::get, "/version"}};
constexpr std::array disk_usage{docker_endpoint{m::get, "/system/df"}};
constexpr std::array list_containers{docker_endpoint{m::get, "/containers/json"}};
constexpr std::array inspect_container{owner_check};
constexpr std::array create_container{docker_endpoint{m::get, "/containers/json"},
                                      docker_endpoint{m::post, "/containers/create"},
                                      docker_endpoint{m::post, "/containers/{}/start"},
                                      owner_check,
                                      docker_endpoint{m::get, "/volumes/{}"},
                                      docker_endpoint{m::post, "/volumes/create"}};
constexpr std::array start_container{owner_check, docker_endpoint{m::post, "/containers/{}/start"}};
constexpr std::array stop_container{owner_check, docker_endpoint{m::post, "/containers/{}/stop"}};
constexpr std::array restart_container{owner_check,
                                       docker_endpoint{m::post, "/containers/{}/restart"}};
constexpr std::array kill_container{owner_check, docker_endpoint{m::post, "/containers/{}/kill"}};
constexpr std::array remove_container{owner_check, docker_endpoint{m::del, "/containers/{}"}};
constexpr std::array container_logs{owner_check, docker_endpoint{m::get, "/containers/{}/logs"}};
constexpr std::array container_stats{owner_check, docker_endpoint{m::get, "/containers/{}/stats"}};
constexpr std::array follow_logs{owner_check, docker_endpoint{m::get, "/containers/{}/logs"}};
constexpr std::array follow_stats{owner_check, docker_endpoint{m::get, "/containers/{}/stats"}};
constexpr std::array exec_start{owner_check, docker_endpoint{m::post, "/containers/{}/exec"},
                                docker_endpoint{m::post, "/exec/{}/start"},
                                docker_endpoint{m::post, "/exec/{}/resize"},
                                docker_endpoint{m::get, "/exec/{}/json"}};
constexpr std::array list_images{docker_endpoint{m::get, "/images/json"}};
constexpr std::array inspect_image{docker_endpoint{m::get, "/images/{}/json"}};
constexpr std::array pull_image{docker_endpoint{m::post, "/images/create"},
                                docker_endpoint{m::get, "/images/{}/json"}};
constexpr std::array remove_image{docker_endpoint{m::del, "/images/{}"}};
constexpr std::array host_facts{docker_endpoint{m::get, "/info"},
                                docker_endpoint{m::get, "/version"}};
constexpr std::array inventory{docker_endpoint{m::get, "/containers/json"}, owner_check};
constexpr std::array events{docker_endpoint{m::get, "/_ping"}, docker_endpoint{m::get, "/events"}};

struct entry {
  std::string_view action;
  std::span<const docker_endpoint> endpoints;
};

namespace n = common::protocol::names;

// Keyed by catalogue entry (an alias uses the entry it stands for) and by the internal jobs.
constexpr std::array<entry, 23> table{{
    {n::ping, ping},
    {n::host_info, host_info},
    {n::disk_usage, disk_usage},
    {n::list_containers, list_containers},
    {n::inspect_container, inspect_container},
    {n::create_container, create_container},
    {n::start_container, start_container},
    {n::stop_container, stop_container},
    {n::restart_container, restart_container},
    {n::kill_container, kill_container},
    {n::remove_container, remove_container},
    {n::container_logs, container_logs},
    {n::container_stats, container_stats},
    {n::list_images, list_images},
    {n::inspect_image, inspect_image},
    {n::pull_image, pull_image},
    {n::remove_image, remove_image},
    {n::follow_logs, follow_logs},
    {n::follow_stats, follow_stats},
    {n::exec_start, exec_start},
    {job_host_facts, host_facts},
    {job_inventory, inventory},
    {job_events, events},
}};

constexpr auto action_names = [] {
  std::array<std::string_view, table.size()> names{};
  for (std::size_t i = 0; i < table.size(); ++i) names[i] = table[i].action;
  return names;
}();

bool escaped_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '%';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One escaped path segment: only unreserved characters and %XX. Docker decodes %2F before routing,
// so once decoded, every '/'-separated piece must be non-empty and not "." or "..".
bool valid_segment(std::string_view s) {
  if (s.empty()) return false;
  std::string decoded;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!escaped_char(s[i])) return false;
    if (s[i] != '%') {
      decoded += s[i];
      continue;
    }
    if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) return false;
    decoded += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    i += 2;
  }
  for (std::size_t start = 0;;) {
    auto slash = decoded.find('/', start);
    std::string_view piece = std::string_view(decoded).substr(start, slash - start);
    if (piece.empty() || piece == "." || piece == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

bool valid_query(std::string_view q) {
  return std::all_of(q.begin(), q.end(),
                     [](char c) { return escaped_char(c) || c == '=' || c == '&'; });
}

}  // namespace

std::span<const docker_endpoint> endpoints_for(std::string_view action) {
  const auto& cat = common::protocol::catalogue::builtin();
  if (const auto* spec = cat.find(action, common::protocol::message_kind::agent_action))
    action = cat.canonical(*spec).name;
  for (const auto& e : table)
    if (e.action == action) return e.endpoints;
  return {};
}

std::span<const std::string_view> allowlisted_actions() {
  return action_names;
}

bool path_matches(std::string_view pattern, std::string_view path) {
  if (pattern.empty() || path.empty() || pattern[0] != '/' || path[0] != '/') return false;
  pattern.remove_prefix(1);
  path.remove_prefix(1);
  for (;;) {
    auto ps = pattern.find('/'), xs = path.find('/');
    std::string_view p = pattern.substr(0, ps), x = path.substr(0, xs);
    if (p == "{}" ? !valid_segment(x) : p != x) return false;
    if (ps == std::string_view::npos || xs == std::string_view::npos)
      return ps == std::string_view::npos && xs == std::string_view::npos;
    pattern.remove_prefix(ps + 1);
    path.remove_prefix(xs + 1);
  }
}

bool endpoint_allowed(std::string_view action, http_method method,
                      std::string_view path_and_query) {
  auto q = path_and_query.find('?');
  std::string_view path = path_and_query.substr(0, q);
  if (q != std::string_view::npos && !valid_query(path_and_query.substr(q + 1))) return false;
  if (path.find('#') != std::string_view::npos) return false;
  for (const auto& e : endpoints_for(action))
    if (e.method == method && path_matches(e.pattern, path)) return true;
  return false;
}

common::result<void> allowlisted_transport::check(const docker_request& request) const {
  if (endpoint_allowed(action_, request.method, request.path)) return {};
  return common::make_error(common::errc::forbidden, "action '" + action_ + "' may not call " +
                                                         std::string(to_string(request.method)) +
                                                         " " + request.path);
}

result<docker_response> allowlisted_transport::call(const docker_request& request) {
  if (auto ok = check(request); !ok) return ok.err();
  return inner_.call(request);
}

result<docker_response> allowlisted_transport::stream(const docker_request& request,
                                                      const chunk_sink& sink) {
  if (auto ok = check(request); !ok) return ok.err();
  return inner_.stream(request, sink);
}

}  // namespace dockmesh::agent
