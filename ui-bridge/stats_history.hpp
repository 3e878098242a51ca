// stats_history: the bridge's bounded, in-memory history of usage samples (CPU %, memory, network
// rx/tx, block read/write), one series per key (a container's full id, or a host's fqdn). Each
// series has two tiers: a fine one (one point per `fine_step`, for the newest `fine_span`) and a
// coarse one (one point per `coarse_step`, back to `window`); a point leaving the fine tier is
// folded into its coarse bucket (CPU and memory averaged, the byte counters keep their latest
// value). Samples arriving faster than `fine_step` merge into the current point, so a series never
// holds more than max_points() points whatever the sampling rate, and at most `max_series` series
// are kept: a new one evicts the series updated longest ago. Owned by bridge_app; thread-safe (one
// mutex, held only for in-memory work): written by the sampler's strand, read by REST handlers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dockmesh::bridge {

struct stats_sample {
  std::int64_t t_ms = 0;  // unix ms of the sample (of the newest one merged into it)
  float cpu_percent = 0;
  std::uint32_t merged = 1;  // how many samples this point averages
  std::int64_t memory_bytes = 0;
  // Counters since the container started (Docker's totals): the latest value is kept.
  std::int64_t network_rx_bytes = 0;
  std::int64_t network_tx_bytes = 0;
  std::int64_t block_read_bytes = 0;
  std::int64_t block_write_bytes = 0;
};

struct stats_history_limits {
  std::chrono::milliseconds window = std::chrono::hours(24);
  std::chrono::milliseconds fine_span = std::chrono::hours(1);
  std::chrono::milliseconds fine_step = std::chrono::seconds(10);
  std::chrono::milliseconds coarse_step = std::chrono::minutes(5);
  std::size_t max_series = 1000;
};

// The summary a container-stats reply carries (agent/container_stats) as a sample taken at t_ms.
stats_sample sample_from_reply(const nlohmann::json& body, std::int64_t t_ms);
nlohmann::json to_json(const stats_sample& s);

class stats_history {
 public:
  // Throws std::invalid_argument for steps that are not positive or a fine span over the window.
  explicit stats_history(stats_history_limits limits);

  // A sample older than the series' newest point is dropped (returns false).
  bool add(const std::string& key, const stats_sample& s);
  // The series' points with t_ms >= since_ms, oldest first; empty for an unknown key.
  std::vector<stats_sample> since(const std::string& key, std::int64_t since_ms) const;
  // Drops every point older than now - window, and series left empty.
  void prune(std::int64_t now_ms);
  // Forgets every series whose key is not in `keep` (containers the directory no longer lists).
  void retain(const std::set<std::string>& keep);
  // Every series' points, oldest first (what stats_history_file saves).
  std::vector<std::pair<std::string, std::vector<stats_sample>>> all_series() const;
  // Puts a saved series back (points oldest first, each with its merge count), replacing any
  // series of that key; the tiers and the cap apply as for add().
  void restore(const std::string& key, const std::vector<stats_sample>& points);

  std::size_t series() const;
  std::size_t points() const;
  // Bytes of samples held now, and the most a full store can hold.
  std::size_t memory_bytes() const { return points() * sizeof(stats_sample); }
  std::size_t max_points() const;
  std::size_t bound_bytes() const {
    return limits_.max_series * max_points() * sizeof(stats_sample);
  }
  const stats_history_limits& limits() const { return limits_; }

 private:
  struct series_data {
    std::deque<stats_sample> fine;
    std::deque<stats_sample> coarse;
    std::int64_t newest_ms = 0;
  };
  void evict_one();
  void fold(series_data& d) const;

  stats_history_limits limits_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, series_data> data_;
};

}  // namespace dockmesh::bridge
