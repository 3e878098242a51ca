// broker_metrics: the broker's Prometheus metrics (docs/metrics.md lists each one). Owned by the
// hub, used on the hub thread only; the metrics_server renders the registry from its own thread.
// The forwarding loop keeps counting in hub_counters (plain integers: nothing atomic per message)
// and sync() adds what changed to the registry once per tick (100 ms), with the directory sizes
// (counted once a second), leadership, epoch and etcd state. ZAP results, control requests and
// scheduling decisions are recorded where they happen; none of them is on the per-message path.
#pragma once

#include <cstdint>
#include <string_view>

#include "broker/broker_core.hpp"
#include "broker/hub_counters.hpp"
#include "common/metrics.hpp"

namespace dockmesh::broker {

class broker_metrics {
 public:
  broker_metrics(common::metrics::registry& r, bool etcd_mode);

  void sync(const hub_counters& c, const broker_core& core, std::int64_t now_ms);
  void zap_result(std::string_view domain, bool accepted);
  void control_answered(std::string_view action, int code, double seconds);
  void scheduled(double seconds);
  void connections(std::string_view socket, int delta);

 private:
  using family_counter = common::metrics::counter;
  static void add_delta(family_counter& c, std::uint64_t now, std::uint64_t& last);

  common::metrics::counter& forwarded_;
  common::metrics::counter& published_;
  common::metrics::counter_family& dropped_;
  common::metrics::counter_family& acl_;
  common::metrics::counter_family& subscriptions_;
  common::metrics::counter& rebinds_;
  common::metrics::counter& refused_full_;
  common::metrics::counter_family& zap_;
  common::metrics::gauge_family& connections_;
  common::metrics::gauge_family& hosts_;
  common::metrics::gauge& containers_;
  common::metrics::counter_family& control_;
  common::metrics::histogram_family& control_seconds_;
  common::metrics::histogram& scheduling_seconds_;
  common::metrics::gauge& leader_;
  common::metrics::gauge& epoch_;
  common::metrics::gauge* etcd_reachable_ = nullptr;  // etcd mode only
  hub_counters last_;
  std::int64_t last_directory_ms_ = 0;
};

}  // namespace dockmesh::broker
