#include "common/metrics.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace dockmesh::common::metrics {
namespace {

std::string_view kind_name(metric_kind k) {
  switch (k) {
    case metric_kind::counter:
      return "counter";
    case metric_kind::gauge:
      return "gauge";
    case metric_kind::histogram:
      return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"` without the closing brace, so a histogram can append its `le`.
std::string open_labels(const std::vector<std::string>& names, const label_values& values) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    s += i ? "," : "{";
    s += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  return s;
}

std::string close_labels(const std::string& open) {
  return open.empty() ? open : open + "}";
}

}  // namespace

const bucket_bounds& latency_buckets() {
  static const bucket_bounds b{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                               0.25,   0.5,   1,      2.5,   5,    10,    30};
  return b;
}

histogram::histogram(const bucket_bounds& bounds)
    : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void histogram::observe(double v) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<std::uint64_t> histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = counts_[i].load(std::memory_order_relaxed);
  return out;
}

std::string escape_help(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_label_value(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

bool valid_metric_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  });
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])) || s.substr(0, 2) == "__")
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

family_base::family_base(std::string name, std::string help, std::vector<std::string> label_names,
                         metric_kind kind)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      kind_(kind) {
  if (!valid_metric_name(name_)) throw std::invalid_argument("bad metric name '" + name_ + "'");
  for (const auto& l : label_names_)
    if (!valid_label_name(l) || (kind_ == metric_kind::histogram && l == "le"))
      throw std::invalid_argument("metric " + name_ + ": bad label name '" + l + "'");
}

void* family_base::child(const std::vector<std::string_view>& values) {
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metric " + name_ + ": wants " +
                                std::to_string(label_names_.size()) + " label value(s)");
  label_values key(values.begin(), values.end());
  std::lock_guard lock(mutex_);
  auto it = children_.find(key);
  if (it != children_.end()) return it->second.get();
  if (children_.size() >= max_children) key.assign(values.size(), "other");
  auto& c = children_[key];
  if (!c) c = make_child();
  return c.get();
}

void family_base::render(std::string& out) const {
  out += "# HELP " + name_ + " " + escape_help(help_) + "\n";
  out += "# TYPE " + name_ + " " + std::string(kind_name(kind_)) + "\n";
  std::lock_guard lock(mutex_);
  for (const auto& [values, c] : children_)
    render_child(out, open_labels(label_names_, values), c.get());
}

template <class T>
family<T>::family(std::string name, std::string help, std::vector<std::string> label_names,
                  bucket_bounds bounds, bool sampled_counter)
    : family_base(std::move(name), std::move(help), std::move(label_names),
                  std::is_same_v<T, counter> || sampled_counter ? metric_kind::counter
                  : std::is_same_v<T, gauge>                    ? metric_kind::gauge
                                                                : metric_kind::histogram),
      bounds_(std::move(bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end() ||
      std::any_of(bounds_.begin(), bounds_.end(), [](double b) { return !std::isfinite(b); }))
    throw std::invalid_argument("metric " + this->name() + ": buckets must ascend, finite");
  if (label_count() == 0) with({});  // a family without labels always shows its one child
}

template <class T>
std::shared_ptr<void> family<T>::make_child() const {
  if constexpr (std::is_same_v<T, histogram>)
    return std::make_shared<histogram>(bounds_);
  else
    return std::make_shared<T>();
}

template <class T>
void family<T>::render_child(std::string& out, const std::string& labels, const void* c) const {
  const auto& m = *static_cast<const T*>(c);
  if constexpr (std::is_same_v<T, counter>) {
    out += name() + close_labels(labels) + " " + std::to_string(m.value()) + "\n";
  } else if constexpr (std::is_same_v<T, gauge>) {
    out += name() + close_labels(labels) + " " + format_value(m.value()) + "\n";
  } else {
    auto counts = m.bucket_counts();
    std::uint64_t cumulative = 0;
    std::string sep = labels.empty() ? "{" : labels + ",";
    for (std::size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      auto le = i < bounds_.size() ? format_value(bounds_[i]) : std::string("+Inf");
      out += name() + "_bucket" + sep + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += name() + "_sum" + close_labels(labels) + " " + format_value(m.sum()) + "\n";
    out += name() + "_count" + close_labels(labels) + " " + std::to_string(cumulative) + "\n";
  }
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

template <class F>
F& registry::add(std::unique_ptr<F> f) {
  std::lock_guard lock(mutex_);
  for (const auto& g : families_)
    if (g->name() == f->name()) throw std::invalid_argument("metric " + f->name() + " twice");
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

counter_family& registry::counters(std::string name, std::string help,
                                   std::vector<std::string> label_names) {
  return add(
      std::make_unique<counter_family>(std::move(name), std::move(help), std::move(label_names)));
}

gauge_family& registry::gauges(std::string name, std::string help,
                               std::vector<std::string> label_names) {
  return add(
      std::make_unique<gauge_family>(std::move(name), std::move(help), std::move(label_names)));
}

histogram_family& registry::histograms(std::string name, std::string help,
                                       std::vector<std::string> label_names, bucket_bounds bounds) {
  return add(std::make_unique<histogram_family>(std::move(name), std::move(help),
                                                std::move(label_names), std::move(bounds)));
}

gauge_family& registry::sampled_counters(std::string name, std::string help) {
  return add(std::make_unique<gauge_family>(std::move(name), std::move(help),
                                            std::vector<std::string>{}, bucket_bounds{}, true));
}

std::size_t registry::on_collect(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  collectors_[++next_collector_] = std::move(fn);
  return next_collector_;
}

void registry::remove_collector(std::size_t id) {
  std::lock_guard lock(mutex_);
  collectors_.erase(id);
}

std::string registry::render() const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, fn] : collectors_) fn();
  std::string out;
  out.reserve(16 * 1024);
  for (const auto& f : families_) f->render(out);
  return out;
}

registry& default_registry() {
  static registry r;
  return r;
}

void add_process_metrics(registry& r) {
  auto& cpu =
      r.sampled_counters("process_cpu_seconds_total", "User and system CPU time spent, seconds");
  auto& rss = r.gauges("process_resident_memory_bytes", "Resident memory size, bytes");
  auto& start = r.gauges("process_start_time_seconds", "Start time since the epoch, seconds");
  auto& fds = r.gauges("process_open_fds", "Open file descriptors");
  r.on_collect(
      [&cpu = cpu.with({}), &rss = rss.with({}), &start = start.with({}), &fds = fds.with({})] {
        std::ifstream in("/proc/self/stat");
        std::string line;
        std::getline(in, line);
        auto close = line.rfind(')');
        if (close == std::string::npos) return;
        std::istringstream fields(line.substr(close + 2));
        std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
        if (f.size() < 22) return;
        // Fields counted from `state` (field 3 of proc(5)): utime 14, stime 15, starttime 22,
        // rss 24.
        double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
        cpu.set((std::stod(f[11]) + std::stod(f[12])) / tick);
        rss.set(std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE)));
        std::ifstream up("/proc/uptime");
        double uptime = 0;
        up >> uptime;
        start.set(static_cast<double>(time(nullptr)) - uptime + std::stod(f[19]) / tick);
        std::error_code ec;
        std::size_t n = 0;
        for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
             !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
          ++n;
        fds.set(static_cast<double>(n));
      });
}

}  // namespace dockmesh::common::metrics
