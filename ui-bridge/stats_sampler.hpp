// stats_sampler: fills the stats history (stats_history.hpp). Every `interval` it asks the
// directory for every container (one `containers` control call), then, per host, sends
// `container-stats` for that host's running containers one at a time (as the bridge's own admin
// principal, "stats-history"), so that sampling holds at most one of an agent's action workers
// (each call takes about 2 s: Docker waits for a second CPU reading). A host's sample is the sum
// of its containers' samples of that round. A round starts only when the previous one is over, so
// a host with N running containers is sampled every max(interval, ~2N s): a round that outlasts the
// interval starts the next one as it ends. Containers the directory
// no longer lists lose their history. Owned by bridge_app; runs on its own strand of the bridge's
// io_context; bus completions only post to that strand. Never blocks.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/program_options.hpp>

#include "ui-bridge/message_gateway.hpp"
#include "ui-bridge/stats_history.hpp"

namespace dockmesh::bridge {

// --stats-history DURATION (24h; 0 turns history off), --stats-interval SECONDS (10),
// --stats-max-containers N (1000; hosts are capped at the same number).
struct stats_history_config {
  bool enabled = true;
  stats_history_limits limits;
  std::chrono::milliseconds interval = std::chrono::seconds(10);
  // --stats-save-interval SECONDS (60; 0: never saved): how often the history is written to the
  // data dir (stats_history_file.hpp), besides once at shutdown.
  std::chrono::seconds save_interval{60};
};
void add_stats_history_options(boost::program_options::options_description& options);
stats_history_config stats_history_config_from(const boost::program_options::variables_map& vm);
// "90s", "15m", "24h", "2d" or plain seconds; nullopt for anything else.
std::optional<std::chrono::seconds> parse_duration(const std::string& text);

class stats_sampler {
 public:
  stats_sampler(boost::asio::any_io_executor ex, message_gateway& gateway,
                stats_history& containers, stats_history& hosts,
                std::chrono::milliseconds interval);
  void start();  // the first round at once
  void stop();   // no new round or request; replies still on their way are ignored

 private:
  struct host_round {
    std::vector<std::string> queue;  // running containers not yet sampled this round
    stats_sample sum;
    int sampled = 0;
  };
  void arm(std::chrono::milliseconds after);
  void round();
  void on_listing(const common::result<common::envelope>& r);
  void next(const std::string& host);
  void on_sample(const std::string& host, const std::string& id,
                 const common::result<common::envelope>& r);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  message_gateway& gateway_;
  stats_history& containers_;
  stats_history& hosts_;
  std::chrono::milliseconds interval_;
  principal self_;
  std::map<std::string, host_round> round_;  // hosts still sampling in this round
  bool listing_ = false;                     // the directory call is out
  std::chrono::steady_clock::time_point round_started_;
  std::atomic<bool> stopped_{false};
};

}  // namespace dockmesh::bridge
