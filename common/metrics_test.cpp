#include "common/metrics.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "common/metrics_server.hpp"

using namespace dockmesh::common;
using namespace dockmesh::common::metrics;

TEST_CASE("metrics: a counter family renders HELP, TYPE and one line per label set") {
  registry r;
  auto& f = r.counters("dm_test_total", "Things counted", {"reason"});
  f.with({"acl"}).inc();
  f.with({"acl"}).inc(2);
  f.with({"malformed"}).inc();
  CHECK(r.render() ==
        "# HELP dm_test_total Things counted\n"
        "# TYPE dm_test_total counter\n"
        "dm_test_total{reason=\"acl\"} 3\n"
        "dm_test_total{reason=\"malformed\"} 1\n");
}

TEST_CASE("metrics: a family without labels shows its value before any update") {
  registry r;
  r.gauges("dm_up", "Up");
  CHECK(r.render() == "# HELP dm_up Up\n# TYPE dm_up gauge\ndm_up 0\n");
  r.gauges("dm_temp", "T").with({}).set(-1.5);
  CHECK(r.render().find("dm_temp -1.5\n") != std::string::npos);
}

TEST_CASE("metrics: label values and help text are escaped") {
  CHECK(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  CHECK(escape_help("x\\y\nz \"q\"") == "x\\\\y\\nz \"q\"");
  registry r;
  r.counters("dm_paths_total", "Per\npath", {"path"}).with({"/a\"b"}).inc();
  auto text = r.render();
  CHECK(text.find("# HELP dm_paths_total Per\\npath\n") != std::string::npos);
  CHECK(text.find("dm_paths_total{path=\"/a\\\"b\"} 1\n") != std::string::npos);
}

TEST_CASE("metrics: values format as Prometheus reads them") {
  CHECK(format_value(1) == "1");
  CHECK(format_value(0.005) == "0.005");
  CHECK(format_value(2.5e9) == "2.5e+09");  // Prometheus reads both forms
  CHECK(format_value(1.0 / 0.0) == "+Inf");
  CHECK(format_value(-1.0 / 0.0) == "-Inf");
  CHECK(format_value(0.0 / 0.0) == "NaN");
}

TEST_CASE("metrics: histogram buckets are cumulative, with +Inf, _sum and _count") {
  registry r;
  auto& h = r.histograms("dm_latency_seconds", "Latency", {"op"}, {0.1, 1});
  auto& c = h.with({"get"});
  c.observe(0.05);  // <= 0.1
  c.observe(0.1);   // on the bound: counted in le="0.1"
  c.observe(0.5);
  c.observe(7);
  CHECK(r.render() ==
        "# HELP dm_latency_seconds Latency\n"
        "# TYPE dm_latency_seconds histogram\n"
        "dm_latency_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
        "dm_latency_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
        "dm_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
        "dm_latency_seconds_sum{op=\"get\"} 7.65\n"
        "dm_latency_seconds_count{op=\"get\"} 4\n");
}

TEST_CASE("metrics: histogram without labels") {
  registry r;
  r.histograms("dm_h_seconds", "H", {}, {1}).with({}).observe(2);
  auto text = r.render();
  CHECK(text.find("dm_h_seconds_bucket{le=\"1\"} 0\n") != std::string::npos);
  CHECK(text.find("dm_h_seconds_bucket{le=\"+Inf\"} 1\n") != std::string::npos);
  CHECK(text.find("dm_h_seconds_sum 2\n") != std::string::npos);
}

TEST_CASE("metrics: bad names, duplicates, bad buckets and wrong label counts are refused") {
  registry r;
  CHECK_THROWS_AS(r.counters("1bad", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.counters("dm-bad", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.counters("dm_ok_total", "x", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(r.histograms("dm_h", "x", {"le"}), std::invalid_argument);
  CHECK_THROWS_AS(r.histograms("dm_h2", "x", {}, {1, 0.5}), std::invalid_argument);
  auto& f = r.counters("dm_once_total", "x", {"a"});
  CHECK_THROWS_AS(r.gauges("dm_once_total", "y"), std::invalid_argument);
  CHECK_THROWS_AS(f.with({"x", "y"}), std::invalid_argument);
  CHECK(valid_metric_name("dockmesh:ratio_total"));
  CHECK_FALSE(valid_label_name("a:b"));
}

TEST_CASE("metrics: a family stops growing at max_children and folds the rest into 'other'") {
  registry r;
  auto& f = r.counters("dm_many_total", "x", {"k"});
  for (std::size_t i = 0; i < family_base::max_children + 50; ++i)
    f.with({std::to_string(i)}).inc();
  CHECK(f.with({"other"}).value() == 50);
  CHECK(&f.with({"999999"}) == &f.with({"other"}));
}

TEST_CASE("metrics: children keep their address and count exactly under concurrent updates") {
  registry r;
  auto& f = r.counters("dm_conc_total", "x", {"t"});
  auto& h = r.histograms("dm_conc_seconds", "x", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        f.with({"same"}).inc();
        h.with({}).observe(0.5);
      }
    });
  for (int i = 0; i < 20; ++i) (void)r.render();  // renders race with updates: must be safe
  for (auto& t : threads) t.join();
  CHECK(f.with({"same"}).value() == 40000);
  CHECK(h.with({}).bucket_counts()[0] == 40000);
  CHECK(h.with({}).sum() == doctest::Approx(20000));
}

TEST_CASE("metrics: collectors run before each render; process metrics are present") {
  registry r;
  add_process_metrics(r);
  auto text = r.render();
  CHECK(text.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
  CHECK(text.find("process_resident_memory_bytes 0\n") == std::string::npos);
  CHECK(text.find("process_open_fds ") != std::string::npos);
}

TEST_CASE("metrics_server: listen addresses parse or give a clear error") {
  auto a = parse_listen_address("127.0.0.1:9400");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9400);
  auto b = parse_listen_address("[::1]:0");
  REQUIRE(b);
  CHECK(b->host == "::1");
  CHECK_FALSE(parse_listen_address("localhost:9400"));
  CHECK_FALSE(parse_listen_address("127.0.0.1"));
  CHECK_FALSE(parse_listen_address("127.0.0.1:70000"));
  CHECK_FALSE(parse_listen_address("127.0.0.1:9x"));
  CHECK(parse_listen_address("127.0.0.1").err().message == "'127.0.0.1' is not IP:PORT");
  CHECK(parse_listen_address("1.2.3.4:x").err().message == "'1.2.3.4:x': bad port");
  CHECK(parse_listen_address("localhost:1").err().message ==
        "'localhost:1': the host must be a numeric IPv4 or IPv6 address");
}
