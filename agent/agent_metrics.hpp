// agent_metrics: dockmesh-agent's Prometheus metrics (docs/metrics.md lists each one), in the
// process's default registry, which --metrics-listen serves. One instance, created on first use;
// every method is safe from any thread (workers, the events follower, the bus thread) and costs a
// few relaxed atomic operations plus, for labelled series, one mutex-guarded map lookup: nothing
// here is on a per-byte or per-message path of the bus.
#pragma once

#include <string>
#include <string_view>

#include "agent/docker_transport.hpp"
#include "common/metrics.hpp"

namespace dockmesh::agent {

// A Docker API path as a bounded label: "/containers/{id}/start", "/images/{name}/json",
// "/containers/json"; the query string and every id or name are dropped.
std::string docker_endpoint_label(std::string_view path);
// errc of a failed call (or "ok") as the outcome label.
std::string_view docker_outcome(const result<docker_response>& r);

class agent_metrics {
 public:
  static agent_metrics& get();

  void docker_call(http_method method, std::string_view path, std::string_view outcome,
                   double seconds);
  void request(std::string_view action, int code, double seconds);
  void request_refused(std::string_view action, int code);  // answered without running
  void dockerd_up(bool up);
  void event_stream_up(bool up);
  void event_received();

 private:
  agent_metrics();
  common::metrics::counter_family& docker_calls_;
  common::metrics::histogram_family& docker_seconds_;
  common::metrics::counter_family& requests_;
  common::metrics::histogram_family& request_seconds_;
  common::metrics::gauge& dockerd_up_;
  common::metrics::gauge& stream_up_;
  common::metrics::counter& stream_starts_;
  common::metrics::counter& events_;
};

}  // namespace dockmesh::agent
