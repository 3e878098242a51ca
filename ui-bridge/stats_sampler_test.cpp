#include "ui-bridge/stats_sampler.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::bridge;
namespace po = boost::program_options;
using namespace std::chrono_literals;

namespace {

stats_history_config config_of(std::vector<std::string> args) {
  po::options_description o;
  add_stats_history_options(o);
  std::vector<const char*> argv{"dockmesh-bridge"};
  for (const auto& a : args) argv.push_back(a.c_str());
  po::variables_map vm;
  po::store(po::parse_command_line(static_cast<int>(argv.size()), argv.data(), o), vm);
  po::notify(vm);
  return stats_history_config_from(vm);
}

}  // namespace

TEST_CASE("durations: a number and one unit") {
  CHECK(parse_duration("90s") == 90s);
  CHECK(parse_duration("15m") == 900s);
  CHECK(parse_duration("24h") == 86400s);
  CHECK(parse_duration("2d") == 172800s);
  CHECK(parse_duration("600") == 600s);
  CHECK(parse_duration("0") == 0s);
  for (const char* bad : {"", "h", "1.5h", "-1h", "1hh", "1w", "24 h", "9999999999999"})
    CHECK_MESSAGE(!parse_duration(bad), bad);
}

TEST_CASE("stats history options: 24 h at 10 s by default, 1 h fine, then 5 min; 0 turns it off") {
  auto d = config_of({});
  CHECK(d.enabled);
  CHECK(d.limits.window == 24h);
  CHECK(d.limits.fine_span == 1h);
  CHECK(d.limits.fine_step == 10s);
  CHECK(d.limits.coarse_step == 5min);
  CHECK(d.limits.max_series == 1000);
  stats_history h(d.limits);
  CHECK(h.max_points() == 361 + 278);
  CHECK(h.bound_bytes() == 1000 * 639 * 56);  // 35.8 MB for 1,000 containers at most
  auto short_window = config_of({"--stats-history", "10m", "--stats-interval", "2"});
  CHECK(short_window.limits.window == 10min);
  CHECK(short_window.limits.fine_span == 10min);
  CHECK(short_window.limits.fine_step == 2s);
  CHECK_FALSE(config_of({"--stats-history", "0"}).enabled);
  CHECK_THROWS_WITH_AS(config_of({"--stats-history", "1 day"}), doctest::Contains("not a duration"),
                       std::runtime_error);
  CHECK_THROWS_AS(config_of({"--stats-interval", "0"}), std::runtime_error);
  CHECK_THROWS_AS(config_of({"--stats-max-containers", "0"}), std::runtime_error);
}
