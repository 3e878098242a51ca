// metrics: Prometheus counters, gauges and histograms with labels, and their text exposition
// (format 0.0.4). A registry owns families; a family owns one child per set of label values.
// Children never move and live as long as the registry, so a hot path looks a child up once and
// then updates it with one relaxed atomic operation: no lock, no allocation, no branch on labels.
// Looking a child up by label values takes the family's mutex: do it outside loops where the
// labels are fixed. render() runs on any thread (the metrics_server's) while others update; a
// histogram read mid-update may show a count one ahead of its sum, which Prometheus tolerates.
// Registration errors (bad names, duplicates, wrong label count) are programming errors: they
// throw std::invalid_argument. A family with more than max_children label sets folds the rest
// into one child whose label values are all "other", so hostile input cannot grow it unbounded.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dockmesh::common::metrics {

class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class gauge {
 public:
  void set(double v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void add(double v) noexcept { v_.fetch_add(v, std::memory_order_relaxed); }
  double value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Upper bounds in ascending order; +Inf is implicit.
using bucket_bounds = std::vector<double>;
// Seconds, 0.5 ms .. 30 s: Docker calls, bus round trips, HTTP requests.
const bucket_bounds& latency_buckets();

class histogram {
 public:
  explicit histogram(const bucket_bounds& bounds);
  void observe(double v) noexcept;
  const bucket_bounds& bounds() const { return bounds_; }
  // Per bucket (not cumulative), the last one for +Inf.
  std::vector<std::uint64_t> bucket_counts() const;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  const bucket_bounds& bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

enum class metric_kind { counter, gauge, histogram };

using label_values = std::vector<std::string>;

class family_base {
 public:
  family_base(std::string name, std::string help, std::vector<std::string> label_names,
              metric_kind kind);
  virtual ~family_base() = default;
  const std::string& name() const { return name_; }
  void render(std::string& out) const;

  static constexpr std::size_t max_children = 1000;

 protected:
  std::size_t label_count() const { return label_names_.size(); }
  // The child for `values`, created on first use (under the mutex).
  void* child(const std::vector<std::string_view>& values);
  virtual std::shared_ptr<void> make_child() const = 0;
  virtual void render_child(std::string& out, const std::string& labels, const void* c) const = 0;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  metric_kind kind_;
  mutable std::mutex mutex_;
  std::map<label_values, std::shared_ptr<void>> children_;
};

template <class T>
class family final : public family_base {
 public:
  family(std::string name, std::string help, std::vector<std::string> label_names,
         bucket_bounds bounds = {}, bool sampled_counter = false);
  T& with(std::initializer_list<std::string_view> values) {
    return *static_cast<T*>(child(std::vector<std::string_view>(values)));
  }
  T& with(const std::vector<std::string_view>& values) { return *static_cast<T*>(child(values)); }

 private:
  std::shared_ptr<void> make_child() const override;
  void render_child(std::string& out, const std::string& labels, const void* c) const override;
  bucket_bounds bounds_;
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

class registry {
 public:
  counter_family& counters(std::string name, std::string help,
                           std::vector<std::string> label_names = {});
  gauge_family& gauges(std::string name, std::string help,
                       std::vector<std::string> label_names = {});
  histogram_family& histograms(std::string name, std::string help,
                               std::vector<std::string> label_names = {},
                               bucket_bounds bounds = latency_buckets());
  // A counter whose value is read from elsewhere at collect time (CPU seconds from /proc): set()
  // like a gauge, exposed as a counter.
  gauge_family& sampled_counters(std::string name, std::string help);
  // Runs before every render, on the rendering thread: refreshes gauges read from elsewhere.
  // Returns an id for remove_collector (an owner that dies before the registry must call it).
  std::size_t on_collect(std::function<void()> fn);
  void remove_collector(std::size_t id);
  std::string render() const;

 private:
  template <class F>
  F& add(std::unique_ptr<F> f);
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<family_base>> families_;
  std::map<std::size_t, std::function<void()>> collectors_;
  std::size_t next_collector_ = 0;
};

// The process's registry: every daemon's metrics_server renders this one.
registry& default_registry();
// process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds,
// process_open_fds, read from /proc/self at every render.
void add_process_metrics(registry& r);

// Text-format helpers, exposed for the tests.
std::string escape_help(std::string_view s);
std::string escape_label_value(std::string_view s);
std::string format_value(double v);
bool valid_metric_name(std::string_view s);
bool valid_label_name(std::string_view s);

}  // namespace dockmesh::common::metrics
