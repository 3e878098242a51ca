#include "agent/agent_metrics.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "common/protocol/catalogue.hpp"

namespace dockmesh::agent {
namespace {

using namespace common::metrics;

// Second segments that are fixed words, not ids: /containers/json, /images/create, ...
bool fixed_word(std::string_view s) {
  for (auto w : {"json", "create", "prune", "search", "load", "get", "df", "events"})
    if (s == w) return true;
  return false;
}

bool plain_word(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c));
  });
}

std::string_view action_label(std::string_view action) {
  return common::protocol::catalogue::builtin().find(action) ? action : "unknown";
}

}  // namespace

std::string docker_endpoint_label(std::string_view path) {
  path = path.substr(0, path.find('?'));
  std::vector<std::string_view> seg;
  for (std::size_t at = 0; at < path.size();) {
    auto slash = path.find('/', at);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > at) seg.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  if (seg.empty()) return "/";
  std::string first = plain_word(seg[0]) || seg[0] == "_ping" ? std::string(seg[0]) : "{other}";
  if (seg.size() == 1) return "/" + first;
  auto id = first == "images" ? "{name}" : "{id}";
  if (seg.size() == 2) return "/" + first + "/" + (fixed_word(seg[1]) ? std::string(seg[1]) : id);
  // Image names hold slashes: the last segment is the verb when it is a plain word.
  std::string label = "/" + first + "/" + id;
  // Appended, not `"/" + std::string`: GCC 12 at -O3 warns -Wrestrict (a false positive inside
  // std::string).
  if (plain_word(seg.back())) label.append("/").append(seg.back());
  return label;
}

std::string_view docker_outcome(const result<docker_response>& r) {
  return r ? std::string_view("ok") : common::to_string(r.err().code);
}

agent_metrics& agent_metrics::get() {
  static agent_metrics m;
  return m;
}

agent_metrics::agent_metrics()
    : docker_calls_(default_registry().counters("dockmesh_agent_docker_calls_total",
                                                "Docker Engine API calls, by endpoint and outcome",
                                                {"method", "endpoint", "outcome"})),
      docker_seconds_(default_registry().histograms("dockmesh_agent_docker_call_seconds",
                                                    "Docker Engine API call latency (streams: "
                                                    "until the stream ends)",
                                                    {"method", "endpoint"})),
      requests_(default_registry().counters("dockmesh_agent_requests_total",
                                            "Bus requests answered, by action and reply code",
                                            {"action", "code"})),
      request_seconds_(default_registry().histograms(
          "dockmesh_agent_request_seconds", "Time to carry out a request, by action", {"action"})),
      dockerd_up_(default_registry()
                      .gauges("dockmesh_agent_dockerd_up", "1 while dockerd answers")
                      .with({})),
      stream_up_(default_registry()
                     .gauges("dockmesh_agent_event_stream_up",
                             "1 while the Docker events stream is being followed")
                     .with({})),
      stream_starts_(default_registry()
                         .counters("dockmesh_agent_event_stream_starts_total",
                                   "Times the Docker events stream was (re)opened")
                         .with({})),
      events_(default_registry()
                  .counters("dockmesh_agent_events_total", "Docker events published on the bus")
                  .with({})) {}

void agent_metrics::docker_call(http_method method, std::string_view path, std::string_view outcome,
                                double seconds) {
  auto endpoint = docker_endpoint_label(path);
  docker_calls_.with({to_string(method), endpoint, outcome}).inc();
  docker_seconds_.with({to_string(method), endpoint}).observe(seconds);
}

void agent_metrics::request(std::string_view action, int code, double seconds) {
  auto a = action_label(action);
  requests_.with({a, std::to_string(code)}).inc();
  request_seconds_.with({a}).observe(seconds);
}

void agent_metrics::request_refused(std::string_view action, int code) {
  requests_.with({action_label(action), std::to_string(code)}).inc();
}

void agent_metrics::dockerd_up(bool up) {
  dockerd_up_.set(up ? 1 : 0);
}

void agent_metrics::event_stream_up(bool up) {
  stream_up_.set(up ? 1 : 0);
  if (up) stream_starts_.inc();
}

void agent_metrics::event_received() {
  events_.inc();
}

}  // namespace dockmesh::agent
