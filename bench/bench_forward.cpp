// bench_forward: forwarding throughput of 100-byte messages publisher -> hub -> subscriber, for
// the real dockmesh-broker (CURVE, ACLs on) and for a raw zmq_proxy XSUB/XPUB (plain and CURVE)
// built from the same libzmq. Each hub runs in its own process with one ZeroMQ I/O thread and
// the broker's high-water mark (100,000); the publisher and the subscriber are the same code for
// every hub. Each round runs every hub once, back to back, in a rotating order; a figure is the
// median over rounds, and a ratio the median of the per-round ratios, so that the load other
// users put on a shared machine cancels out. Messages are counted at both ends: losses are
// reported. Internal mode `--serve-proxy plain|curve` runs one proxy.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <thread>

#include <boost/program_options.hpp>
#include <zmq.hpp>

#include "bench/bench_support.hpp"
#include "common/bus_client.hpp"
#include "common/control_client.hpp"
#include "common/curve_keys.hpp"

namespace {

using namespace dockmesh;
using namespace dockmesh::bench;
namespace po = boost::program_options;
using std::chrono::milliseconds;

constexpr int hub_hwm = 100000;  // the broker's default --high-water-mark
constexpr const char* topic = "evt/host/bench-pub.bench.test/";

int serve_proxy(const std::string& mode, const std::string& xsub_ep, const std::string& xpub_ep,
                const std::string& secret) {
  zmq::context_t ctx(1);
  zmq::socket_t xsub(ctx, zmq::socket_type::xsub), xpub(ctx, zmq::socket_type::xpub);
  for (auto* s : {&xsub, &xpub}) {
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::sndhwm, hub_hwm);
    s->set(zmq::sockopt::rcvhwm, hub_hwm);
    if (mode == "curve") {
      s->set(zmq::sockopt::curve_server, true);
      s->set(zmq::sockopt::curve_secretkey, secret);
    }
  }
  xsub.bind(xsub_ep);
  xpub.bind(xpub_ep);
  zmq::proxy(xsub, xpub);  // until the parent's SIGTERM ends the process
  return 0;
}

struct hub_target {
  std::string name;
  std::string xsub, xpub;
  bool curve = false;
  pid_t pid = 0;  // the hub's process, for its CPU time
};

struct round_result {
  std::uint64_t sent = 0, received = 0;
  double seconds = 0;
  double hub_cpu_seconds = 0;  // user + system time of the hub process (all its threads)
  bool ok = false;
  double rate() const { return seconds > 0 ? static_cast<double>(received) / seconds : 0; }
  double cpu_us_per_message() const {
    return received ? hub_cpu_seconds * 1e6 / static_cast<double>(received) : 0;
  }
};

struct client_keys {
  common::curve_keypair pub, sub;
  std::string server_public;
};

void apply_client_curve(zmq::socket_t& s, const common::curve_keypair& k, const std::string& srv) {
  s.set(zmq::sockopt::curve_serverkey, srv);
  s.set(zmq::sockopt::curve_publickey, k.public_key);
  s.set(zmq::sockopt::curve_secretkey, k.secret_key);
}

// Publishes `count` data messages (first byte 'd') after warm-up messages ('w') have reached the
// subscriber, which counts data messages until it has them all or the stream has been quiet for
// a second after the publisher finished.
round_result measure(const hub_target& hub, const client_keys& keys, std::uint64_t count,
                     std::size_t size) {
  zmq::context_t ctx(1);
  std::atomic<bool> warm{false}, done{false};
  std::atomic<std::uint64_t> received{0};
  steady::time_point last_arrival{};
  std::thread sub_thread([&] {
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::rcvhwm, 0);
    if (hub.curve) apply_client_curve(sub, keys.sub, keys.server_public);
    sub.set(zmq::sockopt::subscribe, topic);
    sub.connect(hub.xpub);
    auto quiet_since = steady::now();
    zmq::message_t t, body, extra;
    for (;;) {
      zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, milliseconds(50));
      bool any = false;
      while (sub.recv(t, zmq::recv_flags::dontwait)) {
        if (!t.more() || !sub.recv(body, zmq::recv_flags::none)) continue;
        // The broker's stamp frame (the sender's identity) follows the body.
        for (bool more = body.more(); more; more = extra.more())
          if (!sub.recv(extra, zmq::recv_flags::none)) break;
        any = true;
        if (body.size() && body.data<char>()[0] == 'd') {
          received.fetch_add(1, std::memory_order_relaxed);
          last_arrival = steady::now();
        } else {
          warm = true;
        }
      }
      if (any) quiet_since = steady::now();
      if (received.load() >= count) break;
      if (done && ms_between(quiet_since, steady::now()) > 1000) break;
      if (!warm && ms_between(quiet_since, steady::now()) > 15000) break;  // never connected
    }
  });
  zmq::socket_t pub(ctx, zmq::socket_type::pub);
  pub.set(zmq::sockopt::linger, 0);
  pub.set(zmq::sockopt::sndhwm, 0);  // the publisher never drops: back-pressure is TCP's
  if (hub.curve) apply_client_curve(pub, keys.pub, keys.server_public);
  pub.connect(hub.xsub);
  std::string warm_body(size, 'w'), data_body(size, 'd');
  auto warm_deadline = steady::now() + std::chrono::seconds(15);
  while (!warm && steady::now() < warm_deadline) {
    pub.send(zmq::buffer(std::string_view(topic)), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(warm_body), zmq::send_flags::none);
    std::this_thread::sleep_for(milliseconds(10));
  }
  round_result r;
  if (!warm) {
    done = true;
    sub_thread.join();
    return r;
  }
  std::this_thread::sleep_for(milliseconds(100));  // let the last warm-ups drain
  auto cpu0 = read_proc_usage(hub.pid);
  auto t0 = steady::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    std::memcpy(data_body.data() + 1, &i, sizeof i);
    pub.send(zmq::buffer(std::string_view(topic)), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(data_body), zmq::send_flags::none);
  }
  r.sent = count;
  done = true;
  sub_thread.join();
  r.received = received.load();
  r.seconds = r.received ? ms_between(t0, last_arrival) / 1000.0 : 0;
  // The subscriber waited a quiet second after the last message: the hub was idle by then.
  r.hub_cpu_seconds = read_proc_usage(hub.pid).cpu_seconds - cpu0.cpu_seconds;
  r.ok = true;
  return r;
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot find my own executable");
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string ep(int port) {
  return "tcp://127.0.0.1:" + std::to_string(port);
}

// Until the broker answers a control call (its sockets are bound and ZAP is serving).
bool wait_broker(const common::bus_client_options& admin) {
  zmq::context_t ctx(1);
  common::control_client control(ctx, admin);
  auto deadline = steady::now() + std::chrono::seconds(30);
  while (steady::now() < deadline)
    if (auto r = control.call("hosts", nlohmann::json::object(), milliseconds(1000)); r)
      return true;
  return false;
}

nlohmann::json broker_stats(const common::bus_client_options& admin) {
  zmq::context_t ctx(1);
  common::control_client control(ctx, admin);
  auto r = control.call("stats", nlohmann::json::object(), milliseconds(3000));
  return r && r->code == 200 ? r->body : nlohmann::json::object();
}

struct variant_stats {
  std::vector<round_result> rounds;
  double best() const {
    double b = 0;
    for (const auto& r : rounds) b = std::max(b, r.rate());
    return b;
  }
  double median() const {
    std::vector<double> v;
    for (const auto& r : rounds) v.push_back(r.rate());
    return summarize(v).p50;
  }
  double median_cpu_us() const {
    std::vector<double> v;
    for (const auto& r : rounds) v.push_back(r.cpu_us_per_message());
    return summarize(v).p50;
  }
  std::string losses() const {
    std::uint64_t s = 0, g = 0;
    for (const auto& r : rounds) s += r.sent, g += r.received;
    return "received " + std::to_string(g) + " of " + std::to_string(s) + " sent (lost " +
           std::to_string(s - g) + ")";
  }
  bool all_ok() const {
    return !rounds.empty() &&
           std::all_of(rounds.begin(), rounds.end(), [](auto& r) { return r.ok; });
  }
};

// Median over rounds of value/baseline, each pair measured in the same round, back to back: drift
// in the machine's load cancels out of each pair.
double paired_ratio(const variant_stats& value, const variant_stats& baseline) {
  std::vector<double> r;
  for (std::size_t i = 0; i < value.rounds.size() && i < baseline.rounds.size(); ++i)
    if (baseline.rounds[i].rate() > 0)
      r.push_back(value.rounds[i].rate() / baseline.rounds[i].rate());
  return summarize(r).p50;
}

void report(const std::map<std::string, variant_stats>& v) {
  auto rate = [](double r) { return with_unit(r, 0, "msg/s"); };
  const auto& plain = v.at("proxy-plain");
  const auto& curve = v.at("proxy-curve");
  const auto& broker = v.at("broker-curve");
  bool ok = broker.all_ok() && curve.all_ok() && plain.all_ok();
  print_figure({"forward: zmq_proxy plain", rate(plain.median()), "-", "-", "-", "info",
                "best " + rate(plain.best()) + "; " + plain.losses()});
  print_figure({"forward: zmq_proxy CURVE vs plain", rate(curve.median()), rate(plain.median()),
                fixed(paired_ratio(curve, plain), 3) + "x", "-", "info",
                "cost of CURVE alone; best " + rate(curve.best()) + "; " + curve.losses()});
  double r = paired_ratio(broker, curve);
  print_figure({"forward: broker CURVE vs zmq_proxy CURVE", rate(broker.median()),
                rate(curve.median()), fixed(r, 3) + "x", ">= 0.9x",
                ok ? pass_fail(r >= 0.9) : "ERROR",
                "medians; ratio = median of per-round ratios; best " + rate(broker.best()) +
                    " vs " + rate(curve.best()) + "; " + broker.losses()});
  // CPU time the hub spends per message hardly depends on what else runs on the machine, unlike
  // throughput: capacity on a free core is 1 / (CPU per message).
  double cb = broker.median_cpu_us(), cc = curve.median_cpu_us();
  print_figure({"forward: hub CPU per message, broker vs zmq_proxy CURVE", with_unit(cb, 2, "us"),
                with_unit(cc, 2, "us"), cb > 0 ? fixed(cc / cb, 3) + "x" : "-", ">= 0.9x",
                ok && cb > 0 ? pass_fail(cc / cb >= 0.9) : "ERROR",
                "ratio = proxy CPU / broker CPU per message (capacity ratio); medians over rounds; "
                "plain proxy " +
                    with_unit(plain.median_cpu_us(), 2, "us")});
  double rp = paired_ratio(broker, plain);
  print_figure({"forward: broker CURVE vs zmq_proxy plain", rate(broker.median()),
                rate(plain.median()), fixed(rp, 3) + "x", "-", ok ? "info" : "ERROR",
                "not like for like, so no target: the broker has no plaintext mode (CURVE on every "
                "bus socket), this is what mandatory CURVE+ACL costs against an "
                "unencrypted proxy; the >= 0.9x target is checked CURVE vs CURVE above"});
}

int run(const po::variables_map& vm) {
  auto work = make_temp_dir("dm-bench-forward");
  // Declared before the hubs, so it runs after they are stopped, whatever the exit path.
  struct work_dir_guard {
    std::string path;
    bool keep;
    ~work_dir_guard() {
      if (!keep) remove_tree(path);
    }
  } guard{work, vm.count("keep") > 0};
  auto count = vm["messages"].as<std::uint64_t>();
  auto size = vm["size"].as<std::size_t>();
  int rounds = vm["rounds"].as<int>();
  client_keys keys;
  auto server = common::generate_keypair();
  keys.server_public = server.public_key;
  keys.pub = common::generate_keypair();
  keys.sub = common::generate_keypair();
  common::save_keypair(work + "/server.key", server);
  write_file(work + "/authorized_keys", "agent bench-pub.bench.test " + keys.pub.public_key +
                                            "\nadmin bench-sub " + keys.sub.public_key + "\n");
  int base = free_port_block(9, vm["base-port"].as<int>());
  std::string me = self_exe(), log = work + "/hubs.log";
  child_process plain({me, "--serve-proxy", "plain", "--xsub", ep(base), "--xpub", ep(base + 1)},
                      log);
  child_process curve({me, "--serve-proxy", "curve", "--xsub", ep(base + 3), "--xpub", ep(base + 4),
                       "--secret", server.secret_key},
                      log);
  child_process broker(
      {vm["broker-bin"].as<std::string>(), "--data-dir", work + "/broker", "--server-key",
       work + "/server.key", "--authorized-keys", work + "/authorized_keys", "--xsub-endpoint",
       ep(base + 6), "--xpub-endpoint", ep(base + 7), "--router-endpoint", ep(base + 8),
       "--log-level", "warn"},
      work + "/broker.log");
  common::bus_client_options admin;
  admin.brokers.push_back({"127.0.0.1", base + 6});
  admin.keys = keys.sub;
  admin.broker_public_key = keys.server_public;
  admin.client_id = "bench-forward";
  if (!wait_broker(admin)) {
    std::cerr << "bench_forward: the broker did not start; log: " << work << "/broker.log\n";
    return 1;
  }
  std::vector<hub_target> hubs{{"proxy-plain", ep(base), ep(base + 1), false, plain.pid()},
                               {"proxy-curve", ep(base + 3), ep(base + 4), true, curve.pid()},
                               {"broker-curve", ep(base + 6), ep(base + 7), true, broker.pid()}};
  std::map<std::string, variant_stats> stats;
  std::cout << "forwarding " << count << " messages of " << size << " bytes per round, " << rounds
            << " rounds, hubs alternating" << std::endl;
  for (int r = 0; r < rounds; ++r)
    for (std::size_t k = 0; k < hubs.size(); ++k) {
      const auto& h = hubs[(k + static_cast<std::size_t>(r)) % hubs.size()];
      auto res = measure(h, keys, count, size);
      std::cout << "  round " << r + 1 << " " << h.name << ": " << fixed(res.rate(), 0)
                << " msg/s, hub CPU " << fixed(res.cpu_us_per_message(), 2) << " us/msg, received "
                << res.received << "/" << res.sent << std::endl;
      stats[h.name].rounds.push_back(res);
    }
  auto bs = broker_stats(admin);
  std::cout << "broker counters: " << bs.dump() << std::endl;
  report(stats);
  plain.stop();
  curve.stop();
  broker.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("bench_forward options");
  opts.add_options()("help", "this text")(
      "broker-bin", po::value<std::string>()->default_value("build/bin/dockmesh-broker"),
      "dockmesh-broker binary")("messages", po::value<std::uint64_t>()->default_value(300000),
                                "messages per round")(
      "size", po::value<std::size_t>()->default_value(100), "message body bytes")(
      "rounds", po::value<int>()->default_value(3), "rounds per hub")(
      "base-port", po::value<int>()->default_value(21000), "first loopback port to try")(
      "keep", "keep the work directory")("serve-proxy", po::value<std::string>(),
                                         "internal: run one zmq_proxy (plain|curve)")(
      "xsub", po::value<std::string>(), "internal")("xpub", po::value<std::string>(), "internal")(
      "secret", po::value<std::string>()->default_value(""), "internal");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << opts;
      return 0;
    }
    if (vm.count("serve-proxy"))
      return serve_proxy(vm["serve-proxy"].as<std::string>(), vm["xsub"].as<std::string>(),
                         vm["xpub"].as<std::string>(), vm["secret"].as<std::string>());
    return run(vm);
  } catch (const std::exception& e) {
    std::cerr << "bench_forward: " << e.what() << "\n";
    return 1;
  }
}
