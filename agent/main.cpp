// dockmesh-agent: runs beside one dockerd. Parses the configuration, loads templates, starts the
// agent (bus thread, workers, events follower) and waits for SIGTERM or SIGINT, which make it
// send `unregister` and stop. Start-up errors print one line and exit non-zero.
#include <malloc.h>

#include <csignal>
#include <iostream>
#include <map>

#include "agent/action_dispatcher.hpp"
#include "agent/agent.hpp"
#include "agent/agent_metrics.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/enrollment.hpp"
#include "agent/machine_fqdn.hpp"
#include "agent/policy_options.hpp"
#include "agent/template_store.hpp"
#include "common/config.hpp"
#include "common/log.hpp"
#include "common/metrics_server.hpp"
#include "common/systemd_notifier.hpp"
#include "common/topic.hpp"

namespace po = boost::program_options;
using namespace dockmesh;

namespace {

std::map<std::string, std::string> parse_labels(const po::variables_map& vm) {
  std::map<std::string, std::string> labels;
  if (!vm.count("label")) return labels;
  for (const auto& l : vm["label"].as<std::vector<std::string>>()) {
    auto eq = l.find('=');
    if (eq == std::string::npos)
      throw std::runtime_error("--label must be key=value, got '" + l + "'");
    if (auto ok = agent::check_label_key("--label", l.substr(0, eq)); !ok)
      throw std::runtime_error(ok.err().message);
    labels[l.substr(0, eq)] = l.substr(eq + 1);
  }
  return labels;
}

agent::agent_options options_from(const po::variables_map& vm) {
  agent::agent_options o;
  o.self.fqdn = vm.count("fqdn") ? vm["fqdn"].as<std::string>() : agent::machine_fqdn();
  if (!common::valid_segment(o.self.fqdn))
    throw std::runtime_error("--fqdn '" + o.self.fqdn + "' is not a valid host name");
  o.self.labels = parse_labels(vm);
  o.self.agent_version = DOCKMESH_AGENT_VERSION;
  o.self.policy = agent::policy_from(vm);
  o.self.allow_exec = vm["allow-exec"].as<bool>();
  o.bus = common::bus_client_options_from(vm, o.self.fqdn);
  o.docker.socket_path = vm["docker-socket"].as<std::string>();
  o.workers = vm["workers"].as<int>();
  if (o.workers < 1 || o.workers > 64) throw std::runtime_error("--workers must be 1..64");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description options("dockmesh-agent options");
  options.add_options()("fqdn", po::value<std::string>(),
                        "this host's name on the mesh (default: the machine's FQDN)")(
      "docker-socket", po::value<std::string>()->default_value("/var/run/docker.sock"),
      "dockerd's unix socket")("label", po::value<std::vector<std::string>>()->composing(),
                               "host label key=value (repeatable)")(
      "templates-dir", po::value<std::string>(),
      "directory of create-container templates (<name>.json)")(
      "join-token", po::value<std::string>(),
      "one-time token to enroll this agent's key (dockmeshctl keys token create)")(
      "workers", po::value<int>()->default_value(4), "threads that run Docker calls");
  common::add_bus_client_options(options);
  common::add_metrics_listen_option(options);
  agent::add_policy_options(options);
  // One malloc arena instead of glibc's default of one per thread (up to 8 per core): the agent's
  // nine threads do little allocation each, and every extra arena keeps its own free pages. After
  // 10,000 pings and 30 creates the agent's anonymous memory was 6.8 MB with per-thread arenas
  // and a 4,096-entry request cache, 4.3 MB with one arena and 1,024 entries (footprint target:
  // RSS <= 20 MB, bench/README.md, of which ~13 MB are shared libraries).
  mallopt(M_ARENA_MAX, 1);
  try {
    common::set_log_component("agent");
    auto cfg = common::parse_config(argc, argv, "dockmesh-agent", options);
    if (cfg.exit_now) return cfg.exit_code;
    // Every agent action of the catalogue has a handler and vice versa (throws naming the gap).
    (void)agent::action_dispatcher::builtin();
    // Templates first: a broken one should be reported before anything else is set up.
    agent::template_store templates;
    if (cfg.vm.count("templates-dir"))
      templates = agent::template_store::load_dir(cfg.vm["templates-dir"].as<std::string>());
    auto opts = options_from(cfg.vm);
    opts.templates = &templates;
    // Block the stop signals in every thread; main waits for them with sigwait.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    (void)agent::agent_metrics::get();  // every family registered before the first scrape
    auto metrics_server = common::start_metrics_server(common::metrics_listen_from(cfg.vm),
                                                       common::metrics::default_registry());
    zmq::context_t ctx;
    if (cfg.vm.count("join-token"))
      agent::enroll(ctx, opts.bus, opts.self.fqdn, cfg.vm["join-token"].as<std::string>(),
                    std::chrono::seconds(5));
    agent::agent a(ctx, std::move(opts));
    a.start();
    DM_LOG(info) << "agent " << DOCKMESH_AGENT_VERSION << " running; " << templates.size()
                 << " template(s)";
    common::systemd_notifier systemd;
    systemd.ready("agent " + std::string(DOCKMESH_AGENT_VERSION) + " running");
    int sig = 0;
    sigwait(&stop_signals, &sig);
    DM_LOG(info) << "signal " << sig << ": stopping";
    systemd.stopping();
    a.stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "dockmesh-agent: " << e.what() << "\n";
    return 1;
  }
}
