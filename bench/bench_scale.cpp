// bench_scale: one broker against N SIMULATED agents (bench_sim_agents processes, see
// sim_fleet.hpp), each with its own CURVE key accepted through the authorized-keys file, its own
// sockets and 1 Hz heartbeats. Measures, at the given N: time to join (until the directory has
// all N up), the broker's CPU and RSS in steady state (from /proc), broadcast `ping` on req/all/
// (per-reply latency p50/p99 from an admin client), targeted `ping` round trips, the `hosts`
// directory query, scheduled creates on req/any/ (the simulated agents answer), and the time to
// see 100 agents killed at once (SIGKILL of the process holding them) marked down on dir/.
// Everything it starts is a child process stopped by pid; the work directory is removed.
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/bench_support.hpp"
#include "bench/mesh_client.hpp"
#include "bench/sim_fleet.hpp"
#include "common/topic.hpp"

namespace {

using namespace dockmesh;
using namespace dockmesh::bench;
namespace po = boost::program_options;
using nlohmann::json;
using std::chrono::milliseconds;

struct scale_setup {
  std::string work;
  int agents = 0;
  int base_port = 0;
  common::curve_keypair server, admin;
  std::vector<std::string> group_files;  // group 0 holds the victims
  std::vector<std::string> fqdns;
  std::set<std::string> victims;
  std::vector<std::string> probes;  // a small process of their own: targeted pings go there
};

std::string sim_fqdn(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "sim%05d.bench.test", i);
  return buf;
}

constexpr int probe_agents = 10;

// Groups: [0] the victims, [1] the probe agents, then the rest by per_process.
scale_setup make_setup(int agents, int per_process, int victims, int base_from) {
  scale_setup s;
  s.work = make_temp_dir("dm-bench-scale");
  s.agents = agents;
  s.base_port = free_port_block(3, base_from);
  s.server = common::generate_keypair();
  s.admin = common::generate_keypair();
  common::save_keypair(s.work + "/server.key", s.server);
  std::string authorized = "admin bench-admin " + s.admin.public_key + "\n";
  std::vector<std::vector<sim_identity>> groups(2);
  for (int i = 0; i < agents; ++i) {
    sim_identity id{sim_fqdn(i), common::generate_keypair()};
    authorized += "agent " + id.fqdn + " " + id.keys.public_key + "\n";
    s.fqdns.push_back(id.fqdn);
    if (i < victims) {
      s.victims.insert(id.fqdn);
      groups[0].push_back(std::move(id));
      continue;
    }
    if (i < victims + probe_agents) {
      s.probes.push_back(id.fqdn);
      groups[1].push_back(std::move(id));
      continue;
    }
    if (groups.size() == 2 || static_cast<int>(groups.back().size()) >= per_process) groups.emplace_back();
    groups.back().push_back(std::move(id));
  }
  write_file(s.work + "/authorized_keys", authorized, 0600);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) continue;
    s.group_files.push_back(s.work + "/group" + std::to_string(g) + ".ids");
    write_file(s.group_files.back(), sim_identities_text(groups[g]), 0600);
  }
  return s;
}

common::bus_client_options admin_options(const scale_setup& s) {
  common::bus_client_options o;
  o.brokers.push_back({"127.0.0.1", s.base_port});
  o.keys = s.admin;
  o.broker_public_key = s.server.public_key;
  o.client_id = "bench-scale-admin";
  return o;
}

// dir/ host-<status> events for our simulated hosts, seen by the admin client, with arrival times.
struct dir_watch {
  std::map<std::string, steady::time_point> up, down;
  void take(const common::bus_message& m) {
    if (m.topic != common::topic_dir()) return;
    std::string fqdn = m.env.body.is_object() ? m.env.body.value("fqdn", "") : "";
    if (m.env.action == "host-up") up.emplace(fqdn, steady::now());
    if (m.env.action == "host-down") down.emplace(fqdn, steady::now());
  }
  void pump(common::bus_client& bus, milliseconds wait) {
    if (auto m = bus.receive(wait)) take(*m);
    while (auto m = bus.try_receive()) take(*m);
  }
};

std::string scale_name(const scale_setup& s, const std::string& what) {
  return "scale N=" + std::to_string(s.agents) + ": " + what;
}

struct steady_state {
  double broker_cores = 0, sims_cores = 0;
  std::int64_t broker_rss_kb = 0;
};

steady_state sample_steady(pid_t broker, const std::vector<std::unique_ptr<child_process>>& sims,
                           double seconds, dir_watch& watch, common::bus_client& bus) {
  auto b0 = read_proc_usage(broker);
  std::vector<proc_usage> s0;
  for (const auto& c : sims) s0.push_back(read_proc_usage(c->pid()));
  auto t0 = steady::now();
  while (ms_between(t0, steady::now()) < seconds * 1000) watch.pump(bus, milliseconds(100));
  double window = ms_between(t0, steady::now()) / 1000;
  steady_state r;
  auto b1 = read_proc_usage(broker);
  r.broker_cores = cores_used(b0, b1, window);
  r.broker_rss_kb = b1.rss_kb;
  for (std::size_t i = 0; i < sims.size(); ++i)
    r.sims_cores += cores_used(s0[i], read_proc_usage(sims[i]->pid()), window);
  return r;
}

// Sequential `ping`s to agents picked at random from `to`.
summary targeted(mesh_client& admin, const std::vector<std::string>& to, int count,
                 std::uint64_t& errors) {
  std::mt19937_64 rng(1);
  std::vector<double> ms;
  int in_a_row = 0;
  for (int i = 0; i < count && in_a_row < 10; ++i) {  // a broken mesh must not eat the time budget
    const auto& fqdn = to[rng() % to.size()];
    auto t0 = steady::now();
    auto r = admin.to_host(fqdn, "ping", json::object(), milliseconds(2000));
    if (r && r->code == 200) ms.push_back(ms_between(t0, steady::now())), in_a_row = 0;
    else ++errors, ++in_a_row;
  }
  return summarize(ms);
}

struct broadcast_result {
  std::vector<double> reply_ms;
  std::vector<double> all_ms;  // per broadcast: time to the last reply (when all came)
  std::uint64_t missing = 0;
};

broadcast_result broadcasts(mesh_client& admin, std::size_t expected, int rounds, dir_watch& watch) {
  broadcast_result out;
  auto& bus = admin.bus();
  for (int b = 0; b < rounds; ++b) {
    common::envelope req;
    req.id = common::new_message_id();
    req.action = "ping";
    req.from = bus.client_id();
    req.reply_to = bus.reply_topic();
    req.role = "admin";
    req.user = "bench";
    req.deadline = common::now_ms() + 10000;
    std::set<std::string> from;
    auto t0 = steady::now();
    (void)bus.publish(common::topic_req_all(), req);
    while (from.size() < expected && ms_between(t0, steady::now()) < 10000) {
      auto m = bus.receive(milliseconds(100));
      if (!m) continue;
      watch.take(*m);
      if (m->env.re == req.id && m->env.code == 200 && from.insert(m->env.from).second)
        out.reply_ms.push_back(ms_between(t0, steady::now()));
    }
    if (from.size() == expected) out.all_ms.push_back(ms_between(t0, steady::now()));
    out.missing += expected - from.size();
  }
  return out;
}

summary directory_queries(mesh_client& admin, int rounds, std::size_t& up_count) {
  std::vector<double> ms;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = steady::now();
    auto r = admin.control("hosts", json::object(), milliseconds(10000));
    if (!r || r->code != 200) continue;
    ms.push_back(ms_between(t0, steady::now()));
    up_count = 0;
    for (const auto& h : r->body.value("hosts", json::array()))
      if (h.value("status", "") == "up") ++up_count;
  }
  return summarize(ms);
}

summary scheduled(mesh_client& admin, int count, std::uint64_t& errors) {
  std::vector<double> ms;
  int in_a_row = 0;
  for (int i = 0; i < count && in_a_row < 5; ++i) {
    common::envelope req;
    req.action = "create-container";
    req.role = "admin";
    req.user = "bench";
    req.body = {{"image", "local/busybox:latest"}, {"name", "sched-" + std::to_string(i)}};
    auto t0 = steady::now();
    auto r = common::bus_request(admin.bus(), common::topic_req_any(), req, milliseconds(3000),
                                 milliseconds(3000));
    if (r && r->code == 201) ms.push_back(ms_between(t0, steady::now())), in_a_row = 0;
    else ++errors, ++in_a_row;
  }
  return summarize(ms);
}

void progress(double t, std::size_t up, const proc_monitor& mon) {
  auto u = mon.latest();
  std::cout << "  t=" << fixed(t, 0) << "s up=" << up << " broker cpu-s=" << fixed(u.cpu_seconds, 1)
            << " rss=" << fixed(u.rss_kb / 1024.0, 0) << "MB" << std::endl;
}

int run(const po::variables_map& vm) {
  int agents = vm["agents"].as<int>(), victims = std::min(vm["victims"].as<int>(), agents / 2);
  long fds = raise_fd_limit();
  auto s = make_setup(agents, vm["per-process"].as<int>(), victims, vm["base-port"].as<int>());
  // Declared before the children, so it runs after they are stopped, whatever the exit path.
  struct work_dir_guard {
    std::string path;
    bool keep;
    ~work_dir_guard() {
      if (!keep) remove_tree(path);
    }
  } guard{s.work, vm.count("keep") > 0};
  std::cout << "scale: " << agents << " SIMULATED agents in " << s.group_files.size()
            << " processes (the first holds the " << victims << " to be killed); open-file limit "
            << fds << "; work dir " << s.work << std::endl;
  auto ep = [&](int off) { return "tcp://127.0.0.1:" + std::to_string(s.base_port + off); };
  child_process broker({vm["broker-bin"].as<std::string>(), "--data-dir", s.work + "/broker",
                        "--server-key", s.work + "/server.key", "--authorized-keys",
                        s.work + "/authorized_keys", "--xsub-endpoint", ep(0), "--xpub-endpoint",
                        ep(1), "--router-endpoint", ep(2), "--log-level", "warn"},
                       s.work + "/broker.log");
  proc_monitor broker_mon(broker.pid(), milliseconds(500));
  zmq::context_t ctx(1);
  std::unique_ptr<mesh_client> admin;
  for (auto deadline = steady::now() + std::chrono::seconds(30); !admin && steady::now() < deadline;) {
    try {
      admin = std::make_unique<mesh_client>(ctx, admin_options(s));
    } catch (const std::exception& e) {
      if (!broker.running()) throw std::runtime_error("the broker exited; see " + s.work + "/broker.log");
    }
  }
  if (!admin) throw std::runtime_error("the broker did not come up");
  admin->bus().subscribe(common::topic_dir());
  dir_watch watch;
  std::vector<std::unique_ptr<child_process>> sims;
  auto t_join = steady::now();
  for (const auto& f : s.group_files)
    sims.push_back(std::make_unique<child_process>(
        std::vector<std::string>{vm["sim-bin"].as<std::string>(), "--identities", f, "--broker",
                                 "127.0.0.1:" + std::to_string(s.base_port), "--broker-key",
                                 s.server.public_key},
        s.work + "/sims.log"));
  double join_limit = vm["join-timeout"].as<double>();
  auto next_note = steady::now() + std::chrono::seconds(5);
  while (watch.up.size() < static_cast<std::size_t>(agents) && ms_between(t_join, steady::now()) < join_limit * 1000) {
    watch.pump(admin->bus(), milliseconds(100));
    if (steady::now() >= next_note) {
      progress(ms_between(t_join, steady::now()) / 1000, watch.up.size(), broker_mon);
      next_note += std::chrono::seconds(5);
    }
  }
  double join_s = ms_between(t_join, steady::now()) / 1000;
  std::vector<double> join_times;
  for (const auto& [f, when] : watch.up) join_times.push_back(ms_between(t_join, when) / 1000);
  auto js = summarize(join_times);
  bool joined = watch.up.size() >= static_cast<std::size_t>(agents);
  std::cout << "joined: " << watch.up.size() << "/" << agents << " up in " << fixed(join_s, 2) << " s" << std::endl;
  print_figure({scale_name(s, "time to join"), with_unit(join_s, 2, "s"), "-", "-", "-",
                joined ? "info" : "ERROR",
                std::to_string(watch.up.size()) + " of " + std::to_string(agents) +
                    " simulated agents up (dir/ host-up), from process start; half by " +
                    with_unit(js.p50, 2, "s") + ", 99% by " + with_unit(js.p99, 2, "s") + "; " +
                    std::to_string(sims.size()) + " sim processes"});
  if (!joined) return 1;

  auto st = sample_steady(broker.pid(), sims, vm["steady-seconds"].as<double>(), watch, admin->bus());
  print_figure({scale_name(s, "broker CPU, steady 1 Hz heartbeats"), with_unit(st.broker_cores, 3, "cores"), "-",
                "-", "<= 1 core", pass_fail(st.broker_cores <= 1.0),
                "RSS " + with_unit(st.broker_rss_kb / 1024.0, 1, "MB") + "; simulators used " +
                    with_unit(st.sims_cores, 2, "cores") + " of " + std::to_string(online_cpus())});
  print_figure({scale_name(s, "broker RSS"), with_unit(st.broker_rss_kb / 1024.0, 1, "MB"), "-", "-", "-", "info",
                "steady, " + std::to_string(agents * 2) + " CURVE connections; peak so far " +
                    with_unit(broker_mon.peak_rss_kb() / 1024.0, 1, "MB")});

  std::uint64_t terr = 0, rerr = 0;
  auto t = targeted(*admin, s.probes, vm["targeted"].as<int>(), terr);
  print_figure({scale_name(s, "targeted ping p99"), with_unit(t.p99, 3, "ms"), "-", "-", "<= 2 ms",
                t.n ? pass_fail(t.p99 <= 2.0 && terr == 0) : "ERROR",
                "p50 " + with_unit(t.p50, 3, "ms") + ", n=" + std::to_string(t.n) + ", errors " +
                    std::to_string(terr) + "; to " + std::to_string(s.probes.size()) +
                    " simulated agents in a process of their own, answering at once"});
  auto tr = targeted(*admin, s.fqdns, vm["targeted"].as<int>(), rerr);
  print_figure({scale_name(s, "targeted ping p99, any agent"), with_unit(tr.p99, 3, "ms"), "-", "-", "-",
                tr.n ? "info" : "ERROR",
                "p50 " + with_unit(tr.p50, 3, "ms") + ", n=" + std::to_string(tr.n) + ", errors " +
                    std::to_string(rerr) + "; random agents: includes the simulator's poll over ~" +
                    std::to_string(2 * vm["per-process"].as<int>()) + " sockets"});

  auto b = broadcasts(*admin, static_cast<std::size_t>(agents), vm["broadcasts"].as<int>(), watch);
  auto bs = summarize(b.reply_ms), ball = summarize(b.all_ms);
  print_figure({scale_name(s, "broadcast ping replies p99"), with_unit(bs.p99, 1, "ms"), "-", "-", "<= 1 s",
                bs.n ? pass_fail(bs.p99 <= 1000 && b.missing == 0) : "ERROR",
                "p50 " + with_unit(bs.p50, 1, "ms") + "; all " + std::to_string(agents) + " replies in " +
                    with_unit(ball.p50, 1, "ms") + " (median of " + std::to_string(ball.n) + " broadcasts); missing " +
                    std::to_string(b.missing)});

  std::size_t up_count = 0;
  auto q = directory_queries(*admin, vm["queries"].as<int>(), up_count);
  print_figure({scale_name(s, "directory query `hosts`"), with_unit(q.p50, 1, "ms"), "-", "-", "-",
                q.n && up_count == static_cast<std::size_t>(agents) ? "info" : "ERROR",
                "max " + with_unit(q.max, 1, "ms") + ", n=" + std::to_string(q.n) + "; lists " +
                    std::to_string(up_count) + " hosts up"});

  std::uint64_t serr = 0;
  auto sc = scheduled(*admin, vm["scheduled"].as<int>(), serr);
  print_figure({scale_name(s, "scheduled create (req/any/) p50"), with_unit(sc.p50, 3, "ms"), "-", "-", "-",
                sc.n ? "info" : "ERROR",
                "p99 " + with_unit(sc.p99, 3, "ms") + ", n=" + std::to_string(sc.n) + ", errors " +
                    std::to_string(serr) + "; round trip: broker places among " + std::to_string(agents) +
                    " hosts, a simulated agent answers 201"});

  // Kill the victims' process at once, then wait for the directory to mark all of them down.
  watch.pump(admin->bus(), milliseconds(0));
  std::size_t down_before = watch.down.size();  // hosts that flapped down earlier, if any
  watch.down.clear();
  auto t_kill = steady::now();
  sims.front()->kill_now();
  auto victims_down = [&] {
    std::size_t n = 0;
    for (const auto& f : s.victims) n += watch.down.count(f);
    return n;
  };
  while (victims_down() < s.victims.size() && ms_between(t_kill, steady::now()) < 15000)
    watch.pump(admin->bus(), milliseconds(50));
  std::vector<double> detect;
  for (const auto& f : s.victims)
    if (auto it = watch.down.find(f); it != watch.down.end()) detect.push_back(ms_between(t_kill, it->second) / 1000);
  auto d = summarize(detect);
  std::size_t others_down = watch.down.size() - detect.size();
  print_figure({scale_name(s, "detect " + std::to_string(s.victims.size()) + " killed agents"),
                with_unit(d.max, 2, "s"), "-", "-", "<= 3.5 s",
                detect.size() == s.victims.size() ? pass_fail(d.max <= 3.5) : "ERROR",
                "all " + std::to_string(detect.size()) + "/" + std::to_string(s.victims.size()) +
                    " down on dir/ (first " + with_unit(d.min, 2, "s") + ", p50 " + with_unit(d.p50, 2, "s") +
                    "); broker --down-after-ms 3200; live agents marked down: " +
                    std::to_string(down_before) + " before the kill, " + std::to_string(others_down) + " after"});

  if (auto r = admin->control("stats", json::object(), milliseconds(5000)); r && r->code == 200)
    std::cout << "broker counters: " << r->body.dump() << std::endl;
  progress(ms_between(t_join, steady::now()) / 1000, watch.up.size(), broker_mon);
  std::cout << "broker peak RSS " << fixed(broker_mon.peak_rss_kb() / 1024.0, 1) << " MB" << std::endl;
  admin.reset();
  for (auto& c : sims) c->stop(std::chrono::milliseconds(5000));
  auto t_stop = steady::now();
  int st_code = broker.stop(std::chrono::milliseconds(20000));
  std::cout << "broker stopped in " << fixed(ms_between(t_stop, steady::now()) / 1000, 1)
            << " s (status " << st_code << ")" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("bench_scale options");
  opts.add_options()("help", "this text")(
      "broker-bin", po::value<std::string>()->default_value("build/bin/dockmesh-broker"), "broker binary")(
      "sim-bin", po::value<std::string>()->default_value("build/bin/bench_sim_agents"), "simulator binary")(
      "agents", po::value<int>()->default_value(1000), "simulated agents")(
      "per-process", po::value<int>()->default_value(1000), "simulated agents per process")(
      "victims", po::value<int>()->default_value(100), "agents killed at once for detection")(
      "steady-seconds", po::value<double>()->default_value(10), "CPU sampling window")(
      "join-timeout", po::value<double>()->default_value(180), "seconds to wait for all to join")(
      "targeted", po::value<int>()->default_value(1000), "targeted pings")(
      "broadcasts", po::value<int>()->default_value(5), "broadcast pings")(
      "queries", po::value<int>()->default_value(5), "hosts queries")(
      "scheduled", po::value<int>()->default_value(300), "scheduled creates")(
      "base-port", po::value<int>()->default_value(22000), "first loopback port to try")(
      "keep", "keep the work directory");
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
