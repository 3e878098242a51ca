#include "ui-bridge/bridge_metrics.hpp"

#include <string>

namespace dockmesh::bridge {

using namespace common::metrics;

bridge_metrics& bridge_metrics::get() {
  static bridge_metrics m;
  return m;
}

bridge_metrics::bridge_metrics()
    : requests_(default_registry().counters("dockmesh_bridge_http_requests_total",
                                            "REST API requests answered, by route and status",
                                            {"route", "code"})),
      request_seconds_(default_registry().histograms("dockmesh_bridge_http_request_seconds",
                                                     "REST API latency, request read to "
                                                     "response handed to the connection",
                                                     {"route"})),
      websocket_clients_(
          default_registry()
              .gauges("dockmesh_bridge_websocket_clients", "Open WebSocket connections")
              .with({})),
      login_failures_(default_registry().counters("dockmesh_bridge_login_failures_total",
                                                  "Refused logins, by reason", {"reason"})),
      jobs_(default_registry().gauges("dockmesh_bridge_jobs", "Asynchronous jobs kept, by state",
                                      {"state"})) {
  for (auto r : {"bad_credentials", "rate_limited"}) login_failures_.with({r});
  for (auto s : {job_state::running, job_state::done, job_state::failed})
    jobs_.with({to_string(s)});
}

void bridge_metrics::http_request(std::string_view route, int status, double seconds) {
  requests_.with({route, std::to_string(status)}).inc();
  request_seconds_.with({route}).observe(seconds);
}

void bridge_metrics::websocket_clients(int delta) {
  websocket_clients_.add(delta);
}

void bridge_metrics::login_failure(std::string_view reason) {
  login_failures_.with({reason}).inc();
}

std::size_t bridge_metrics::add_job_counts(const job_store& jobs) {
  return default_registry().on_collect([this, &jobs] {
    auto counts = jobs.count_by_state();
    for (auto s : {job_state::running, job_state::done, job_state::failed})
      jobs_.with({to_string(s)}).set(static_cast<double>(counts[static_cast<int>(s)]));
  });
}

void bridge_metrics::remove_job_counts(std::size_t id) {
  default_registry().remove_collector(id);
}

}  // namespace dockmesh::bridge
