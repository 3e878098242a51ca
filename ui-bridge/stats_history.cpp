#include "ui-bridge/stats_history.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>

#include "common/json_fields.hpp"

namespace dockmesh::bridge {
namespace {

using nlohmann::json;

// A byte count from the reply: common's reader (floats truncated, other types 0), never negative.
std::int64_t number(const json& body, const char* key) {
  return std::max<std::int64_t>(0, common::int_of(body, key));
}

std::int64_t bucket(std::int64_t t_ms, std::chrono::milliseconds step) {
  return t_ms / step.count();
}

// Folds `s` into `into`: a weighted average for the gauges, the latest value for the counters.
void merge(stats_sample& into, const stats_sample& s) {
  double n = into.merged, m = s.merged;
  into.cpu_percent = static_cast<float>((into.cpu_percent * n + s.cpu_percent * m) / (n + m));
  into.memory_bytes = static_cast<std::int64_t>(
      (static_cast<double>(into.memory_bytes) * n + static_cast<double>(s.memory_bytes) * m) /
      (n + m));
  into.network_rx_bytes = s.network_rx_bytes;
  into.network_tx_bytes = s.network_tx_bytes;
  into.block_read_bytes = s.block_read_bytes;
  into.block_write_bytes = s.block_write_bytes;
  into.t_ms = s.t_ms;
  into.merged += s.merged;
}

// Appends `s` to a tier with one point per `step`, merging it into the last point of its bucket.
void put(std::deque<stats_sample>& tier, const stats_sample& s, std::chrono::milliseconds step) {
  if (!tier.empty() && bucket(tier.back().t_ms, step) == bucket(s.t_ms, step))
    merge(tier.back(), s);
  else
    tier.push_back(s);
}

void drop_older(std::deque<stats_sample>& tier, std::int64_t cutoff_ms) {
  while (!tier.empty() && tier.front().t_ms <= cutoff_ms) tier.pop_front();
}

}  // namespace

stats_sample sample_from_reply(const json& body, std::int64_t t_ms) {
  stats_sample s;
  s.t_ms = t_ms;
  auto cpu = body.find("cpu_percent");
  if (cpu != body.end() && cpu->is_number()) {
    double v = cpu->get<double>();
    s.cpu_percent = v > 0 && v < 1e6 ? static_cast<float>(v) : 0.0F;
  }
  s.memory_bytes = number(body, "memory_usage");
  s.network_rx_bytes = number(body, "network_rx_bytes");
  s.network_tx_bytes = number(body, "network_tx_bytes");
  s.block_read_bytes = number(body, "block_read_bytes");
  s.block_write_bytes = number(body, "block_write_bytes");
  return s;
}

json to_json(const stats_sample& s) {
  return {{"t", s.t_ms},
          {"cpu_percent", std::round(s.cpu_percent * 100.0) / 100.0},
          {"memory_bytes", s.memory_bytes},
          {"network_rx_bytes", s.network_rx_bytes},
          {"network_tx_bytes", s.network_tx_bytes},
          {"block_read_bytes", s.block_read_bytes},
          {"block_write_bytes", s.block_write_bytes},
          {"samples", s.merged}};
}

stats_history::stats_history(stats_history_limits limits) : limits_(limits) {
  if (limits_.fine_step.count() <= 0 || limits_.coarse_step.count() <= 0 ||
      limits_.window.count() <= 0 || limits_.fine_span.count() <= 0)
    throw std::invalid_argument("stats history: window, span and steps must be positive");
  if (limits_.fine_span > limits_.window)
    throw std::invalid_argument("stats history: the fine span is longer than the window");
  if (limits_.max_series == 0)
    throw std::invalid_argument("stats history: at least one series must fit");
}

std::size_t stats_history::max_points() const {
  // Fine points have distinct buckets in (newest - span, newest]; coarse ones in
  // (newest - window, newest - span]; a partial bucket at either end adds one.
  auto fine = static_cast<std::size_t>(limits_.fine_span / limits_.fine_step) + 1;
  auto coarse =
      static_cast<std::size_t>((limits_.window - limits_.fine_span) / limits_.coarse_step) + 2;
  return fine + coarse;
}

void stats_history::fold(series_data& d) const {
  std::int64_t fine_cutoff = d.newest_ms - limits_.fine_span.count();
  while (!d.fine.empty() && d.fine.front().t_ms <= fine_cutoff) {
    put(d.coarse, d.fine.front(), limits_.coarse_step);
    d.fine.pop_front();
  }
  drop_older(d.coarse, d.newest_ms - limits_.window.count());
}

void stats_history::evict_one() {
  auto oldest = data_.end();
  for (auto it = data_.begin(); it != data_.end(); ++it)
    if (oldest == data_.end() || it->second.newest_ms < oldest->second.newest_ms) oldest = it;
  if (oldest != data_.end()) data_.erase(oldest);
}

bool stats_history::add(const std::string& key, const stats_sample& s) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) {
    if (data_.size() >= limits_.max_series) evict_one();
    it = data_.emplace(key, series_data{}).first;
  } else if (s.t_ms < it->second.newest_ms) {
    return false;  // out of order: a late reply from an earlier round
  }
  series_data& d = it->second;
  stats_sample one = s;
  one.merged = 1;
  put(d.fine, one, limits_.fine_step);
  d.newest_ms = s.t_ms;
  fold(d);
  return true;
}

std::vector<stats_sample> stats_history::since(const std::string& key,
                                               std::int64_t since_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<stats_sample> out;
  auto it = data_.find(key);
  if (it == data_.end()) return out;
  for (const auto* tier : {&it->second.coarse, &it->second.fine})
    for (const auto& s : *tier)
      if (s.t_ms >= since_ms) out.push_back(s);
  return out;
}

void stats_history::prune(std::int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::int64_t cutoff = now_ms - limits_.window.count();
  for (auto it = data_.begin(); it != data_.end();) {
    drop_older(it->second.coarse, cutoff);
    drop_older(it->second.fine, cutoff);
    if (it->second.coarse.empty() && it->second.fine.empty())
      it = data_.erase(it);
    else
      ++it;
  }
}

void stats_history::retain(const std::set<std::string>& keep) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = data_.begin(); it != data_.end();)
    it = keep.count(it->first) ? std::next(it) : data_.erase(it);
}

std::vector<std::pair<std::string, std::vector<stats_sample>>> stats_history::all_series() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, std::vector<stats_sample>>> out;
  out.reserve(data_.size());
  for (const auto& [key, d] : data_) {
    std::vector<stats_sample> points(d.coarse.begin(), d.coarse.end());
    points.insert(points.end(), d.fine.begin(), d.fine.end());
    out.emplace_back(key, std::move(points));
  }
  return out;
}

void stats_history::restore(const std::string& key, const std::vector<stats_sample>& points) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end() && data_.size() >= limits_.max_series) evict_one();
  series_data& d = data_[key];
  d = series_data{};
  // Each point goes in as the newest, with its merge count kept, then folds as add() folds: a
  // point that was coarse lands in the same coarse bucket again (its time is in that bucket).
  for (const auto& p : points) {
    if (p.t_ms < d.newest_ms) continue;
    put(d.fine, p, limits_.fine_step);
    d.newest_ms = p.t_ms;
    fold(d);
  }
  if (d.fine.empty() && d.coarse.empty()) data_.erase(key);
}

std::size_t stats_history::series() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_.size();
}

std::size_t stats_history::points() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (const auto& [key, d] : data_) n += d.fine.size() + d.coarse.size();
  return n;
}

}  // namespace dockmesh::bridge
