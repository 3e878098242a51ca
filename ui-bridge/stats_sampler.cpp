#include "ui-bridge/stats_sampler.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <boost/asio/post.hpp>

#include "common/envelope.hpp"
#include "common/log.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::bridge {

using nlohmann::json;
namespace names = common::protocol::names;
namespace po = boost::program_options;

void add_stats_history_options(po::options_description& o) {
  o.add_options()("stats-history", po::value<std::string>()->default_value("24h"),
                  "keep usage samples this long (90s, 15m, 24h, 2d; 0: off)")(
      "stats-interval", po::value<int>()->default_value(10), "sample every N seconds")(
      "stats-max-containers", po::value<int>()->default_value(1000),
      "keep history for at most N containers (and N hosts)")(
      "stats-save-interval", po::value<int>()->default_value(60),
      "write the history to the data dir every N seconds and at shutdown (0: never)");
}

std::optional<std::chrono::seconds> parse_duration(const std::string& text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || text.size() - digits > 1) return std::nullopt;
  long long n = std::stoll(text.substr(0, digits));
  char unit = digits < text.size() ? text[digits] : 's';
  switch (unit) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::seconds(n * 60);
    case 'h':
      return std::chrono::seconds(n * 3600);
    case 'd':
      return std::chrono::seconds(n * 86400);
    default:
      return std::nullopt;
  }
}

stats_history_config stats_history_config_from(const po::variables_map& vm) {
  stats_history_config c;
  const auto& text = vm["stats-history"].as<std::string>();
  auto window = parse_duration(text);
  if (!window || *window > std::chrono::hours(24 * 31))
    throw std::runtime_error("--stats-history: '" + text +
                             "' is not a duration such as 90s, 15m, 24h or 2d (at most 31d)");
  int interval = vm["stats-interval"].as<int>(), cap = vm["stats-max-containers"].as<int>();
  if (interval <= 0 || interval > 3600)
    throw std::runtime_error("--stats-interval must be 1..3600 seconds");
  if (cap <= 0) throw std::runtime_error("--stats-max-containers must be positive");
  int save = vm["stats-save-interval"].as<int>();
  if (save < 0 || save > 86400)
    throw std::runtime_error("--stats-save-interval must be 0..86400 seconds");
  c.save_interval = std::chrono::seconds(save);
  c.enabled = window->count() > 0;
  c.interval = std::chrono::seconds(interval);
  c.limits.window = *window;
  c.limits.fine_step = c.interval;
  c.limits.fine_span = std::min<std::chrono::milliseconds>(std::chrono::hours(1), *window);
  if (c.limits.fine_span < c.interval) c.limits.fine_span = c.interval;
  if (c.limits.window < c.limits.fine_span) c.limits.window = c.limits.fine_span;
  c.limits.max_series = static_cast<std::size_t>(cap);
  return c;
}

stats_sampler::stats_sampler(boost::asio::any_io_executor ex, message_gateway& gateway,
                             stats_history& containers, stats_history& hosts,
                             std::chrono::milliseconds interval)
    : strand_(boost::asio::make_strand(ex)),
      timer_(strand_),
      gateway_(gateway),
      containers_(containers),
      hosts_(hosts),
      interval_(interval) {
  self_.user = "stats-history";
  self_.role = user_role::admin;
}

void stats_sampler::start() {
  boost::asio::post(strand_, [this] { round(); });
}

void stats_sampler::stop() {
  stopped_ = true;
  boost::asio::post(strand_, [this] { timer_.cancel(); });
}

void stats_sampler::arm(std::chrono::milliseconds after) {
  timer_.expires_after(after);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) round();
  });
}

void stats_sampler::round() {
  if (stopped_) return;
  arm(interval_);
  // The previous round is still sampling (a host with many containers): try at the next tick.
  if (listing_ || !round_.empty()) return;
  listing_ = true;
  round_started_ = std::chrono::steady_clock::now();
  gateway_.control(std::string(names::containers), json::object(),
                   [this](common::result<common::envelope> r) {
                     boost::asio::post(strand_, [this, r = std::move(r)] { on_listing(r); });
                   });
}

void stats_sampler::on_listing(const common::result<common::envelope>& r) {
  listing_ = false;
  if (stopped_) return;
  if (!r || r->code != 200) {
    DM_LOG(debug) << "stats history: the directory did not answer; next round in "
                  << interval_.count() << " ms";
    return;
  }
  const json& list = r->body.value("containers", json::array());
  std::set<std::string> ids, hosts;
  for (const auto& c : list.is_array() ? list : json::array()) {
    std::string id = c.value("id", std::string()), host = c.value("host", std::string());
    if (id.empty() || host.empty()) continue;
    ids.insert(id);
    hosts.insert(host);
    if (c.value("state", std::string()) == "running" && c.value("host_status", "up") == "up")
      round_[host].queue.push_back(id);
  }
  std::int64_t now = common::now_ms();
  containers_.retain(ids);
  containers_.prune(now);
  hosts_.retain(hosts);
  hosts_.prune(now);
  std::vector<std::string> started;
  for (const auto& [host, work] : round_) started.push_back(host);
  for (const auto& host : started) next(host);
}

void stats_sampler::next(const std::string& host) {
  auto it = round_.find(host);
  if (it == round_.end()) return;
  host_round& work = it->second;
  if (work.queue.empty() || stopped_) {
    if (work.sampled > 0) {
      work.sum.t_ms = common::now_ms();
      hosts_.add(host, work.sum);
    }
    round_.erase(it);
    // A round longer than the interval (many containers on a host) starts the next one at once
    // rather than at the next tick: 10 containers at ~2 s each are sampled every ~20 s, not 30.
    if (round_.empty() && !listing_ &&
        std::chrono::steady_clock::now() - round_started_ >= interval_)
      round();
    return;
  }
  std::string id = work.queue.back();
  work.queue.pop_back();
  json msg = {{"action", names::container_stats}, {"host", host}, {"id", id}};
  gateway_.send(self_, msg, [this, host, id](common::result<common::envelope> r) {
    boost::asio::post(strand_, [this, host, id, r = std::move(r)] {
      on_sample(host, id, r);
      next(host);
    });
  });
}

void stats_sampler::on_sample(const std::string& host, const std::string& id,
                              const common::result<common::envelope>& r) {
  if (stopped_ || !r || r->code != 200 || !r->body.is_object()) return;
  if (!r->body.value("running", false)) return;
  stats_sample s = sample_from_reply(r->body, common::now_ms());
  containers_.add(id, s);
  host_round& work = round_[host];
  work.sum.cpu_percent += s.cpu_percent;
  work.sum.memory_bytes += s.memory_bytes;
  work.sum.network_rx_bytes += s.network_rx_bytes;
  work.sum.network_tx_bytes += s.network_tx_bytes;
  work.sum.block_read_bytes += s.block_read_bytes;
  work.sum.block_write_bytes += s.block_write_bytes;
  ++work.sampled;
}

}  // namespace dockmesh::bridge
