// bench_bulk: many creates at once through one real broker to SIMULATED agents (bench_sim_agents,
// see sim_fleet.hpp: each create makes up its containers and announces them in the agent's next
// inventory, so they reach the broker's directory as a real agent's would). Three phases on one
// fleet (default 100 agents), in this order:
//   bulk-one   one `create-container` with `instances: 1000` on req/any/ (issue 17): dispatch = its
//              combined reply (every agent answered its part), completion = 1,000 in the directory;
//   bulk-many  1,000 separate `create-container` requests on req/any/, sent back to back: dispatch
//              = the 1,000th reply, completion = 1,000 in the directory;
//   reconcile  service-create of a 100-replica service (issue 13): dispatch = the 100th
//              `service-reconcile` create event on dir/ (the reconciler sent the create),
//              completion = 100 replicas running in the directory (container-added on dir/),
//              checked with service-get at the end.
// Broker CPU per phase is read from /proc/<broker pid> only: the simulators' CPU (their own
// processes) is not in it. Every process it starts is a child stopped by pid.
#include <iostream>
#include <set>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "bench/scale_harness.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace {

using namespace dockmesh;
using namespace dockmesh::bench;
namespace po = boost::program_options;
namespace dm_names = common::protocol::names;
using nlohmann::json;
using std::chrono::milliseconds;

// What a phase waits for on the bus: replies to its requests, `service-reconcile` creates and
// containers entering the directory, each counted once and timed from the phase's start.
struct phase_watch {
  std::string request_prefix;     // containers whose `request` starts with this count
  std::set<std::string> pending;  // request ids still without a reply
  std::set<std::string> running;  // container ids seen running
  int reconcile_creates = 0;
  steady::time_point start, first_create, dispatched, completed;
  bool dispatch_done = false, complete = false;

  void take(const common::bus_message& m, std::size_t dispatch_at, std::size_t complete_at) {
    const auto& e = m.env;
    if (m.topic == common::topic_dir() && e.body.is_object()) {
      if (e.action == "service-reconcile" && e.body.value("step", "") == "create" &&
          reconcile_creates++ == 0)
        first_create = steady::now();
      bool container = e.action == "container-added" || e.action == "container-changed";
      if (container && e.body.value("state", "") == "running" &&
          e.body.value("request", "").rfind(request_prefix, 0) == 0)
        running.insert(e.body.value("id", ""));
    } else if (!e.re.empty()) {
      pending.erase(e.re);
    }
    auto now = steady::now();
    bool sent = request_prefix.rfind("svc-", 0) == 0
                    ? static_cast<std::size_t>(reconcile_creates) >= dispatch_at
                    : pending.empty();
    if (!dispatch_done && sent) dispatch_done = true, dispatched = now;
    if (!complete && running.size() >= complete_at) complete = true, completed = now;
  }
};

class bulk_run {
 public:
  bulk_run(const po::variables_map& vm, scale_setup s) : vm_(vm), s_(std::move(s)) {}
  ~bulk_run() {
    admin_.reset();
    sims_.clear();
    broker_.reset();
    if (!vm_.count("keep")) remove_tree(s_.work);
  }
  void start();
  void reconcile_phase();
  void bulk_one_phase();
  void bulk_many_phase();

 private:
  void wait_for(phase_watch& w, std::size_t dispatch_at, std::size_t complete_at);
  void report(const std::string& what, const phase_watch& w, const proc_usage& b0,
              const std::string& how, std::size_t n);

  const po::variables_map& vm_;
  scale_setup s_;
  std::unique_ptr<child_process> broker_;
  zmq::context_t ctx_{1};
  std::unique_ptr<mesh_client> admin_;
  std::vector<std::unique_ptr<child_process>> sims_;
  steady::time_point broker_started_;
};

void bulk_run::start() {
  auto ep = [&](int off) { return "tcp://127.0.0.1:" + std::to_string(s_.base_port + off); };
  broker_ = std::make_unique<child_process>(
      std::vector<std::string>{vm_["broker-bin"].as<std::string>(), "--data-dir",
                               s_.work + "/broker", "--server-key", s_.work + "/server.key",
                               "--authorized-keys", s_.work + "/authorized_keys", "--xsub-endpoint",
                               ep(0), "--xpub-endpoint", ep(1), "--router-endpoint", ep(2),
                               "--log-level", "warn"},
      s_.work + "/broker.log");
  broker_started_ = steady::now();
  for (auto deadline = steady::now() + std::chrono::seconds(30);
       !admin_ && steady::now() < deadline;) {
    try {
      admin_ = std::make_unique<mesh_client>(ctx_, scale_admin_options(s_));
    } catch (const std::exception&) {
      if (!broker_->running()) throw std::runtime_error("the broker exited; see broker.log");
    }
  }
  if (!admin_) throw std::runtime_error("the broker did not come up");
  admin_->bus().subscribe(common::topic_dir());
  for (const auto& f : s_.group_files)
    sims_.push_back(std::make_unique<child_process>(
        std::vector<std::string>{vm_["sim-bin"].as<std::string>(), "--identities", f, "--broker",
                                 "127.0.0.1:" + std::to_string(s_.base_port), "--broker-key",
                                 s_.server.public_key, "--containers", "0"},
        s_.work + "/sims.log"));
  dir_watch watch;
  auto deadline = steady::now() + std::chrono::seconds(60);
  while (watch.up.size() < static_cast<std::size_t>(s_.agents) && steady::now() < deadline)
    watch.pump(admin_->bus(), milliseconds(100));
  if (watch.up.size() < static_cast<std::size_t>(s_.agents))
    throw std::runtime_error(std::to_string(watch.up.size()) + " agents up after 60 s");
  std::cout << s_.agents << " simulated agents up" << std::endl;
}

void bulk_run::wait_for(phase_watch& w, std::size_t dispatch_at, std::size_t complete_at) {
  auto deadline = w.start + std::chrono::milliseconds(
                                static_cast<int>(vm_["phase-timeout"].as<double>() * 1000));
  while (!(w.dispatch_done && w.complete) && steady::now() < deadline)
    if (auto m = admin_->bus().receive(milliseconds(50))) w.take(*m, dispatch_at, complete_at);
}

void bulk_run::report(const std::string& what, const phase_watch& w, const proc_usage& b0,
                      const std::string& how, std::size_t n) {
  auto b1 = read_proc_usage(broker_->pid());
  std::string cpu = "broker CPU " + with_unit(b1.cpu_seconds - b0.cpu_seconds, 2, "s") +
                    " (/proc of the broker only; simulators not counted); load " + load_average();
  std::string where = std::to_string(n) + " over " + std::to_string(s_.agents) + " sim agents";
  bool target = what != "reconcile";
  print_figure({what + " " + where + ": dispatch",
                w.dispatch_done ? with_unit(ms_between(w.start, w.dispatched), 0, "ms") : "-", "-",
                "-", target ? "<= 2000 ms" : "-",
                !w.dispatch_done ? "ERROR"
                : target         ? pass_fail(ms_between(w.start, w.dispatched) <= 2000)
                                 : "info",
                how});
  print_figure({what + " " + where + ": completion",
                w.complete ? with_unit(ms_between(w.start, w.completed), 0, "ms") : "-", "-", "-",
                "-", w.complete ? "info" : "ERROR",
                std::to_string(w.running.size()) + " running in the directory; " + cpu});
}

void bulk_run::reconcile_phase() {
  // A broker holds its first reconcile pass until it has run for --down-after (3.2 s): the phase
  // starts after that, so that it times the reconciler and not the broker's start.
  while (ms_between(broker_started_, steady::now()) < 4200)
    (void)admin_->bus().receive(milliseconds(50));
  auto p = admin_->control(std::string(dm_names::project_create), {{"name", "bench"}},
                           milliseconds(5000));
  if (!p || p->code >= 300) throw std::runtime_error("project-create failed");
  int replicas = vm_["replicas"].as<int>();
  phase_watch w;
  auto b0 = read_proc_usage(broker_->pid());
  w.start = steady::now();
  auto s = admin_->control(std::string(dm_names::service_create),
                           {{"project", "bench"},
                            {"name", "web"},
                            {"spec", {{"image", "local/busybox:latest"}, {"replicas", replicas}}}},
                           milliseconds(5000));
  if (!s || s->code >= 300) throw std::runtime_error("service-create failed");
  std::string id = s->body.value("id", "");
  w.request_prefix = "svc-" + id + "-";
  wait_for(w, replicas, replicas);
  auto got = admin_->control("service-get", {{"service", id}}, milliseconds(5000));
  int running = got && got->body.contains("status") ? got->body["status"].value("running", -1) : -1;
  report("reconcile", w, b0,
         "service-create -> the " + std::to_string(replicas) +
             "th service-reconcile create on dir/ (sent; the reconciler keeps at most 16 in "
             "flight); the first at " +
             with_unit(ms_between(w.start, w.first_create), 0, "ms") +
             "; service-get afterwards: running " + std::to_string(running),
         replicas);
}

common::envelope create_request(const json& body) {
  common::envelope req;
  req.id = common::new_message_id();
  req.action = dm_names::create_container;
  req.role = "admin";
  req.user = "bench";
  req.deadline = common::now_ms() + 30000;
  req.body = body;
  return req;
}

void bulk_run::bulk_one_phase() {
  int n = vm_["containers"].as<int>();
  auto req =
      create_request({{"image", "local/busybox:latest"}, {"name", "bulk"}, {"instances", n}});
  req.from = admin_->bus().client_id();
  req.reply_to = admin_->bus().reply_topic();
  phase_watch w;
  w.request_prefix = req.id;
  w.pending.insert(req.id);
  auto b0 = read_proc_usage(broker_->pid());
  w.start = steady::now();
  (void)admin_->bus().publish(common::topic_req_any(), req);
  wait_for(w, 0, n);
  report("bulk-one", w, b0,
         "one create-container instances:" + std::to_string(n) +
             " on req/any/ (spread, fan-out) -> its combined reply",
         n);
}

void bulk_run::bulk_many_phase() {
  int n = vm_["containers"].as<int>();
  phase_watch w;
  w.request_prefix = "bm";
  std::vector<common::envelope> reqs;
  for (int i = 0; i < n; ++i) {
    auto r =
        create_request({{"image", "local/busybox:latest"}, {"name", "many-" + std::to_string(i)}});
    r.id = "bm" + r.id;  // the prefix finds these containers' `request` on dir/
    r.from = admin_->bus().client_id();
    r.reply_to = admin_->bus().reply_topic();
    w.pending.insert(r.id);
    reqs.push_back(std::move(r));
  }
  auto b0 = read_proc_usage(broker_->pid());
  w.start = steady::now();
  for (const auto& r : reqs) (void)admin_->bus().publish(common::topic_req_any(), r);
  wait_for(w, 0, n);
  report("bulk-many", w, b0,
         std::to_string(n) +
             " create-container requests on req/any/ back to back -> the last reply (" +
             std::to_string(n - w.pending.size()) + " answered)",
         n);
}

int run(const po::variables_map& vm) {
  raise_fd_limit();
  int agents = vm["agents"].as<int>();
  bulk_run r(vm, make_scale_setup(agents, agents, 0, vm["base-port"].as<int>()));
  r.start();
  // The bulk phases first: a broker that has just started holds its first reconcile pass until
  // its directory has settled (--down-after), which would be timed as part of the reconcile.
  r.bulk_one_phase();
  r.bulk_many_phase();
  r.reconcile_phase();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts("bench_bulk options");
  opts.add_options()("help", "this text")(
      "broker-bin", po::value<std::string>()->default_value("build/bin/dockmesh-broker"),
      "broker binary")(
      "sim-bin", po::value<std::string>()->default_value("build/bin/bench_sim_agents"),
      "simulator binary")("agents", po::value<int>()->default_value(100), "simulated agents")(
      "replicas", po::value<int>()->default_value(100), "replicas of the service")(
      "containers", po::value<int>()->default_value(1000), "containers of each bulk phase")(
      "phase-timeout", po::value<double>()->default_value(60), "seconds each phase may take")(
      "base-port", po::value<int>()->default_value(23000), "first loopback port to try")(
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
    std::cerr << "bench_bulk: " << e.what() << "\n";
    return 1;
  }
}
