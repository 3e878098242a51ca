// bridge_metrics: dockmesh-bridge's Prometheus metrics (docs/metrics.md lists each one), in the
// process's default registry, served by --metrics-listen. One instance, created on first use;
// every method is safe from any thread (Beast handlers, the blocking pool, the bus actor). A
// request's route label is its router pattern ("GET /api/v1/containers/{id}"), never the raw
// path, so the number of series stays bounded whatever clients send.
#pragma once

#include <string_view>

#include "common/metrics.hpp"
#include "ui-bridge/job_store.hpp"

namespace dockmesh::bridge {

class bridge_metrics {
 public:
  static bridge_metrics& get();

  void http_request(std::string_view route, int status, double seconds);
  void websocket_clients(int delta);
  void login_failure(std::string_view reason);  // bad_credentials | rate_limited
  // Adds a collector that counts `jobs` by state at every scrape; returns its id, which the owner
  // passes to remove_job_counts before `jobs` goes away.
  std::size_t add_job_counts(const job_store& jobs);
  void remove_job_counts(std::size_t id);

 private:
  bridge_metrics();
  common::metrics::counter_family& requests_;
  common::metrics::histogram_family& request_seconds_;
  common::metrics::gauge& websocket_clients_;
  common::metrics::counter_family& login_failures_;
  common::metrics::gauge_family& jobs_;
};

}  // namespace dockmesh::bridge
