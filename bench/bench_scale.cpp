// bench_scale: one broker against N SIMULATED agents (bench_sim_agents processes, see
// sim_fleet.hpp and scale_harness.hpp), each with its own CURVE key accepted through the
// authorized-keys file, its own sockets and 1 Hz heartbeats. Measures, at the given N: time to
// join (all agents start at once, as after a broker restart; until the directory has them up),
// the broker's CPU and RSS in steady state (/proc), the broker CPU one GET /metrics costs,
// targeted `ping` round trips, broadcast `ping` on req/all/ (per-reply latency from an admin
// client), the `hosts` directory query, scheduled
// creates on req/any/, and the time until 100 agents killed at once (SIGKILL of the process
// holding them) are `host-down` on dir/. Every process it starts is a child stopped by pid (and
// dies with it); the work directory is removed. With --split-cpus the broker has CPU 0 to itself
// and the simulators and this client share the others, so that latency figures are the
// broker's and not the simulators' (which otherwise compete with it for the same cores).
#include <unistd.h>

#include <iostream>
#include <thread>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/http_client.hpp"
#include "bench/scale_harness.hpp"
#include "common/topic.hpp"

namespace {

using namespace dockmesh;
using namespace dockmesh::bench;
namespace po = boost::program_options;
using nlohmann::json;
using std::chrono::milliseconds;

class scale_run {
 public:
  scale_run(const po::variables_map& vm, scale_setup s, std::vector<int> broker_cpus)
      : vm_(vm), s_(std::move(s)), broker_cpus_(std::move(broker_cpus)) {}
  ~scale_run() {
    admin_.reset();
    sims_.clear();
    broker_.reset();
    if (!vm_.count("keep")) remove_tree(s_.work);
  }
  void start_broker();
  void join();
  void steady_state();
  void targeted();
  void scrape_cost();
  void flaps(const char* phase);
  void broadcasts();
  void queries_and_scheduling();
  void detection();
  void stop();

 private:
  std::string name(const std::string& what) const {
    return "scale N=" + std::to_string(s_.agents) +
           (broker_cpus_.empty() ? "" : " (broker on a CPU of its own)") + ": " + what;
  }
  double since_join() const { return ms_between(t_join_, steady::now()) / 1000; }
  void progress() const;

  const po::variables_map& vm_;
  scale_setup s_;
  std::unique_ptr<child_process> broker_;
  std::unique_ptr<proc_monitor> monitor_;
  zmq::context_t ctx_{1};
  std::unique_ptr<mesh_client> admin_;
  std::vector<std::unique_ptr<child_process>> sims_;
  dir_watch watch_;
  std::vector<int> broker_cpus_;  // --split-cpus: {0}; the rest run elsewhere
  steady::time_point t_join_;
  std::size_t joined_ = 0;
};

void scale_run::start_broker() {
  auto ep = [&](int off) { return "tcp://127.0.0.1:" + std::to_string(s_.base_port + off); };
  std::vector<std::string> argv{vm_["broker-bin"].as<std::string>(),
                                "--data-dir",
                                s_.work + "/broker",
                                "--server-key",
                                s_.work + "/server.key",
                                "--authorized-keys",
                                s_.work + "/authorized_keys",
                                "--xsub-endpoint",
                                ep(0),
                                "--xpub-endpoint",
                                ep(1),
                                "--router-endpoint",
                                ep(2),
                                "--log-level",
                                "warn",
                                "--metrics-listen",
                                "127.0.0.1:" + std::to_string(s_.base_port + 3)};
  if (vm_.count("broker-arg"))
    for (const auto& a : vm_["broker-arg"].as<std::vector<std::string>>()) argv.push_back(a);
  broker_ = std::make_unique<child_process>(argv, s_.work + "/broker.log", broker_cpus_);
  monitor_ = std::make_unique<proc_monitor>(broker_->pid(), milliseconds(500));
  for (auto deadline = steady::now() + std::chrono::seconds(30);
       !admin_ && steady::now() < deadline;) {
    try {
      admin_ = std::make_unique<mesh_client>(ctx_, scale_admin_options(s_));
    } catch (const std::exception&) {
      if (!broker_->running())
        throw std::runtime_error("the broker exited; see " + s_.work + "/broker.log");
    }
  }
  if (!admin_) throw std::runtime_error("the broker did not come up");
  admin_->bus().subscribe(common::topic_dir());
}

// Live agents the broker marked down so far (a flap): printed after each phase, so that a
// flap can be laid at the door of the phase that caused it.
void scale_run::flaps(const char* phase) {
  watch_.pump(admin_->bus(), milliseconds(0));
  std::cout << "  after " << phase << ": live agents marked down so far " << watch_.down.size()
            << " (t=" << fixed(since_join(), 1) << "s, load " << load_average() << ")" << std::endl;
}

void scale_run::progress() const {
  auto u = monitor_->latest();
  std::cout << "  t=" << fixed(since_join(), 0) << "s up=" << watch_.up.size()
            << " broker cpu-s=" << fixed(u.cpu_seconds, 1) << " rss=" << fixed(u.rss_kb / 1024.0, 0)
            << "MB load=" << load_average() << std::endl;
}

void scale_run::join() {
  auto overflows0 = listen_overflows();
  t_join_ = steady::now();
  int bulk_nice = vm_["bulk-nice"].as<int>();
  for (const auto& f : s_.group_files) {
    std::vector<std::string> argv{vm_["sim-bin"].as<std::string>(),
                                  "--identities",
                                  f,
                                  "--broker",
                                  "127.0.0.1:" + std::to_string(s_.base_port),
                                  "--broker-key",
                                  s_.server.public_key,
                                  "--joining",
                                  std::to_string(vm_["joining"].as<int>()),
                                  "--handshake-timeout-ms",
                                  std::to_string(vm_["handshake-timeout-ms"].as<int>())};
    // The probe agents (the targeted pings' addressees) and the victims keep the normal priority.
    if (bulk_nice != 0 && s_.bulk_files.count(f))
      argv.insert(argv.begin(), {"/usr/bin/nice", "-n", std::to_string(bulk_nice)});
    sims_.push_back(std::make_unique<child_process>(argv, s_.work + "/sims.log"));
  }
  auto total = static_cast<std::size_t>(s_.agents);
  auto next_note = steady::now() + std::chrono::seconds(5);
  while (watch_.up.size() < total && since_join() < vm_["join-timeout"].as<double>()) {
    watch_.pump(admin_->bus(), milliseconds(100));
    if (steady::now() >= next_note) progress(), next_note += std::chrono::seconds(5);
  }
  double took = since_join();
  std::vector<double> times;
  for (const auto& [f, when] : watch_.up) times.push_back(ms_between(t_join_, when) / 1000);
  auto js = summarize(times);
  joined_ = watch_.up.size();
  print_figure(
      {name("time to join"), with_unit(took, 2, "s"), "-", "-", "-",
       joined_ == total ? "info" : "FAIL",
       std::to_string(joined_) + " of " + std::to_string(total) +
           " simulated agents up (dir/ host-up), " +
           (vm_["joining"].as<int>() > 0 ? "at most " + std::to_string(vm_["joining"].as<int>()) +
                                               " per sim process connecting at once"
                                         : std::string("all started at once")) +
           "; half by " + with_unit(js.p50, 2, "s") + ", 99% by " + with_unit(js.p99, 2, "s") +
           "; " + std::to_string(sims_.size()) + " sim processes; kernel listen-queue overflows " +
           std::to_string(listen_overflows() - overflows0) + "; load " + load_average()});
}

void scale_run::steady_state() {
  auto b0 = read_proc_usage(broker_->pid());
  std::vector<proc_usage> s0;
  for (const auto& c : sims_) s0.push_back(read_proc_usage(c->pid()));
  auto t0 = steady::now();
  while (ms_between(t0, steady::now()) < vm_["steady-seconds"].as<double>() * 1000)
    watch_.pump(admin_->bus(), milliseconds(100));
  double window = ms_between(t0, steady::now()) / 1000;
  auto b1 = read_proc_usage(broker_->pid());
  double sims = 0;
  for (std::size_t i = 0; i < sims_.size(); ++i)
    sims += cores_used(s0[i], read_proc_usage(sims_[i]->pid()), window);
  double cores = cores_used(b0, b1, window);
  print_figure({name("broker CPU, steady 1 Hz heartbeats"), with_unit(cores, 3, "cores"), "-", "-",
                "<= 1 core", b1.ok ? pass_fail(cores <= 1.0) : "ERROR",
                "over " + fixed(window, 0) + " s; simulators used " + with_unit(sims, 2, "cores") +
                    " of " + std::to_string(online_cpus()) + "; load " + load_average()});
  print_figure({name("broker RSS"), with_unit(b1.rss_kb / 1024.0, 1, "MB"), "-", "-", "-", "info",
                "steady, " + std::to_string(joined_ * 2) + " CURVE connections; peak so far " +
                    with_unit(monitor_->peak_rss_kb() / 1024.0, 1, "MB")});
}

void scale_run::scrape_cost() {
  // Broker CPU per GET /metrics: a window without scrapes, then one as long with scrapes back to
  // back; the difference over the number of scrapes (the scraper runs in this process).
  http_client http({}, "http://127.0.0.1:" + std::to_string(s_.base_port + 3));
  double window_ms = vm_["scrape-seconds"].as<double>() * 1000;
  auto idle0 = read_proc_usage(broker_->pid());
  auto t0 = steady::now();
  while (ms_between(t0, steady::now()) < window_ms) watch_.pump(admin_->bus(), milliseconds(100));
  auto idle1 = read_proc_usage(broker_->pid());
  double idle_rate =
      (idle1.cpu_seconds - idle0.cpu_seconds) / (ms_between(t0, steady::now()) / 1000);
  std::vector<double> wall;
  std::size_t bytes = 0;
  auto busy0 = read_proc_usage(broker_->pid());
  auto t1 = steady::now();
  while (ms_between(t1, steady::now()) < window_ms) {
    auto a = steady::now();
    auto r = http.call("GET", "/metrics", {}, std::chrono::seconds(10));
    if (!r || r->status != 200) throw std::runtime_error("GET /metrics failed");
    wall.push_back(ms_between(a, steady::now()));
    bytes = r->body.size();
    if (wall.size() % 50 == 0) watch_.pump(admin_->bus(), milliseconds(0));
  }
  double busy_s = ms_between(t1, steady::now()) / 1000;
  auto busy1 = read_proc_usage(broker_->pid());
  double extra = (busy1.cpu_seconds - busy0.cpu_seconds) - idle_rate * busy_s;
  double per_scrape_ms = extra * 1000 / static_cast<double>(wall.size());
  auto w = summarize(wall);
  print_figure({name("broker CPU per /metrics scrape"), with_unit(per_scrape_ms, 3, "ms"), "-", "-",
                "-", busy1.ok ? "info" : "ERROR",
                std::to_string(w.n) + " scrapes back to back in " + fixed(busy_s, 1) + " s, " +
                    std::to_string(bytes) + " bytes each, wall p50 " + with_unit(w.p50, 2, "ms") +
                    "; the broker used " + with_unit(idle_rate, 3, "cores") +
                    " without scrapes; at one scrape per 15 s: " + fixed(per_scrape_ms / 150, 4) +
                    "% of a core"});
}

void scale_run::targeted() {
  std::uint64_t terr = 0, rerr = 0;
  auto t = targeted_pings(*admin_, s_.probes, vm_["targeted"].as<int>(), terr);
  print_figure({name("targeted ping p99"), with_unit(t.p99, 3, "ms"), "-", "-", "<= 2 ms",
                t.n ? pass_fail(t.p99 <= 2.0 && terr == 0) : "ERROR",
                "p50 " + with_unit(t.p50, 3, "ms") + ", n=" + std::to_string(t.n) + ", errors " +
                    std::to_string(terr) + "; to " + std::to_string(s_.probes.size()) +
                    " simulated agents in a process of their own, answering at once"});
  auto r = targeted_pings(*admin_, s_.fqdns, vm_["targeted"].as<int>(), rerr);
  print_figure({name("targeted ping p99, any agent"), with_unit(r.p99, 3, "ms"), "-", "-", "-",
                r.n ? "info" : "ERROR",
                "p50 " + with_unit(r.p50, 3, "ms") + ", n=" + std::to_string(r.n) + ", errors " +
                    std::to_string(rerr) +
                    "; random agents: adds the simulator's poll over up to " +
                    std::to_string(2 * vm_["per-process"].as<int>()) + " sockets"});
}

void scale_run::broadcasts() {
  auto b = broadcast_pings(*admin_, joined_, vm_["broadcasts"].as<int>(), watch_);
  auto rs = summarize(b.reply_ms), all = summarize(b.all_ms);
  print_figure({name("broadcast ping replies p99"), with_unit(rs.p99, 1, "ms"), "-", "-", "<= 1 s",
                rs.n ? pass_fail(rs.p99 <= 1000 && b.missing == 0) : "ERROR",
                "p50 " + with_unit(rs.p50, 1, "ms") + "; all " + std::to_string(joined_) +
                    " replies in " + with_unit(all.p50, 1, "ms") + " (median of " +
                    std::to_string(all.n) + " complete broadcasts); missing " +
                    std::to_string(b.missing)});
}

void scale_run::queries_and_scheduling() {
  std::size_t up = 0;
  auto q = directory_queries(*admin_, vm_["queries"].as<int>(), up);
  print_figure({name("directory query `hosts`"), with_unit(q.p50, 1, "ms"), "-", "-", "-",
                q.n ? "info" : "ERROR",
                "max " + with_unit(q.max, 1, "ms") + ", n=" + std::to_string(q.n) + "; lists " +
                    std::to_string(up) + " hosts up"});
  std::uint64_t err = 0;
  auto sc = scheduled_creates(*admin_, vm_["scheduled"].as<int>(), err);
  print_figure({name("scheduled create (req/any/) p50"), with_unit(sc.p50, 3, "ms"), "-", "-", "-",
                sc.n ? "info" : "ERROR",
                "p99 " + with_unit(sc.p99, 3, "ms") + ", n=" + std::to_string(sc.n) + ", errors " +
                    std::to_string(err) +
                    "; the broker places among all hosts, a simulated agent answers 201"});
}

void scale_run::detection() {
  watch_.pump(admin_->bus(), milliseconds(0));
  std::size_t down_before = watch_.down.size();  // hosts that flapped down earlier, if any
  watch_.down.clear();
  auto t_kill = steady::now();
  sims_.front()->kill_now();
  auto victims_down = [&] {
    std::size_t n = 0;
    for (const auto& f : s_.victims) n += watch_.down.count(f);
    return n;
  };
  while (victims_down() < s_.victims.size() && ms_between(t_kill, steady::now()) < 15000)
    watch_.pump(admin_->bus(), milliseconds(50));
  std::vector<double> detect;
  for (const auto& f : s_.victims)
    if (auto it = watch_.down.find(f); it != watch_.down.end())
      detect.push_back(ms_between(t_kill, it->second) / 1000);
  auto d = summarize(detect);
  print_figure({name("detect " + std::to_string(s_.victims.size()) + " killed agents"),
                with_unit(d.max, 2, "s"), "-", "-", "<= 3.5 s",
                detect.size() == s_.victims.size() ? pass_fail(d.max <= 3.5) : "ERROR",
                std::to_string(detect.size()) + "/" + std::to_string(s_.victims.size()) +
                    " down on dir/ (first " + with_unit(d.min, 2, "s") + ", p50 " +
                    with_unit(d.p50, 2, "s") +
                    "); broker --down-after-ms 3200; live agents marked down: " +
                    std::to_string(down_before) + " before the kill, " +
                    std::to_string(watch_.down.size() - detect.size()) + " after"});
}

void scale_run::stop() {
  if (auto r = admin_->control("stats", json::object(), milliseconds(5000)); r && r->code == 200)
    std::cout << "broker counters: " << r->body.dump() << std::endl;
  progress();
  std::cout << "broker peak RSS " << fixed(monitor_->peak_rss_kb() / 1024.0, 1) << " MB"
            << std::endl;
  admin_.reset();
  // The broker first, with every agent still connected, as when an operator restarts it.
  auto t = steady::now();
  int code = broker_->stop(milliseconds(20000));
  std::cout << "broker stopped in " << fixed(ms_between(t, steady::now()) / 1000, 1) << " s with "
            << joined_ << " agents connected (status " << code
            << (code == -9 ? ": did not stop on SIGTERM within 20 s" : "") << ")" << std::endl;
  for (auto& c : sims_) c->stop(milliseconds(5000));
}

int run(const po::variables_map& vm) {
  int agents = vm["agents"].as<int>(), victims = std::min(vm["victims"].as<int>(), agents / 2);
  long fds = raise_fd_limit();
  std::vector<int> broker_cpus;
  std::string placement = "shared by every process";
  if (vm.count("split-cpus")) {
    // The broker alone on CPU 0, the simulators and this client on the others: what the
    // simulators cost then never delays the broker, only themselves.
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 2) throw std::runtime_error("--split-cpus needs 2 CPUs at least, this machine has 1");
    std::vector<int> rest;
    for (int c = 1; c < n; ++c) rest.push_back(c);
    pin_to_cpus(rest);
    broker_cpus = {0};
    placement = "CPU 0 for the broker, CPUs 1-" + std::to_string(n - 1) +
                " for the simulators and the client (--split-cpus)";
  }
  scale_run r(
      vm, make_scale_setup(agents, vm["per-process"].as<int>(), victims, vm["base-port"].as<int>()),
      broker_cpus);
  std::cout << "scale: " << agents << " SIMULATED agents (" << victims
            << " of them to be killed); open-file limit " << fds << "; CPUs " << placement
            << "; load " << load_average() << std::endl;
  r.start_broker();
  r.join();
  r.flaps("join");
  r.steady_state();
  r.flaps("steady state");
  r.scrape_cost();
  r.flaps("scrape cost");
  r.targeted();
  r.flaps("targeted pings");
  r.broadcasts();
  r.flaps("broadcasts");
  r.queries_and_scheduling();
  r.flaps("queries and scheduling");
  r.detection();
  r.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("bench_scale options");
  opts.add_options()("help", "this text")(
      "broker-bin", po::value<std::string>()->default_value("build/bin/dockmesh-broker"),
      "broker binary")("sim-bin",
                       po::value<std::string>()->default_value("build/bin/bench_sim_agents"),
                       "simulator binary")(
      "broker-arg", po::value<std::vector<std::string>>()->composing(),
      "extra broker argument, repeatable (e.g. --broker-arg=--io-threads --broker-arg=2)")(
      "agents", po::value<int>()->default_value(1000), "simulated agents")(
      "per-process", po::value<int>()->default_value(1000), "simulated agents per process")(
      "joining", po::value<int>()->default_value(0),
      "per simulator process, agents connecting at once (the next when one has finished its "
      "handshake); 0: all at once")(
      "handshake-timeout-ms", po::value<int>()->default_value(3000),
      "the simulated agents' CURVE handshake timeout (the real agent's is 3000)")(
      "victims", po::value<int>()->default_value(100), "agents killed at once for detection")(
      "steady-seconds", po::value<double>()->default_value(10), "CPU sampling window")(
      "scrape-seconds", po::value<double>()->default_value(5),
      "each window of the scrape-cost figure")(
      "join-timeout", po::value<double>()->default_value(90), "seconds to wait for all to join")(
      "targeted", po::value<int>()->default_value(1000), "targeted pings")(
      "broadcasts", po::value<int>()->default_value(5), "broadcast pings")(
      "queries", po::value<int>()->default_value(5), "hosts queries")(
      "scheduled", po::value<int>()->default_value(300), "scheduled creates")(
      "base-port", po::value<int>()->default_value(22000), "first loopback port to try")(
      "bulk-nice", po::value<int>()->default_value(0),
      "niceness of the simulator processes other than the probe agents' and the victims'")(
      "split-cpus",
      "run the broker alone on CPU 0 and everything else on the other CPUs, so that the "
      "simulators' CPU does not delay the broker")("keep", "keep the work directory");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, opts), vm);
    if (vm.count("help")) {
      std::cout << opts;
      return 0;
    }
    return run(vm);
  } catch (const std::exception& e) {
    std::cerr << "bench_scale: " << e.what() << "\n";
    return 1;
  }
}
