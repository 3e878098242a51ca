// dockmesh-broker: parse the configuration, open the directory, run the hub on its own thread,
// wait for SIGINT/SIGTERM, stop the hub's actor (its stop flag and wakeup) and join.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>

#include <zmq.hpp>

#include "broker/broker_core.hpp"
#include "broker/broker_options.hpp"
#include "broker/hub.hpp"
#include "broker/snapshot_fetch.hpp"
#include "common/actor.hpp"
#include "common/config.hpp"
#include "common/curve_keys.hpp"
#include "common/log.hpp"
#include "common/metrics_server.hpp"
#include "common/systemd_notifier.hpp"

namespace {

using namespace dockmesh;

constexpr int fast_exit_connections = 1000;

int run(const broker::broker_settings& settings) {
  auto server_keys = common::load_keypair(settings.server_key_file);
  // Signals are taken by sigwait in this thread only; every thread started later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  zmq::context_t ctx(settings.io_threads);
  common::metrics::registry metrics;
  // Its own thread, started before the hub (a bind failure is a start-up error); stopped first.
  auto metrics_server = common::start_metrics_server(settings.metrics_listen, metrics);
  auto core =
      std::make_unique<broker::broker_core>(settings, server_keys.public_key, common::now_ms());
  // Before anything is bound: the first answer this broker gives already has a peer's directory.
  if (core->etcd_mode()) broker::load_directory_from_peer(settings, server_keys, *core);
  std::atomic<bool> failed{false};
  std::atomic<int> open_at_stop{0};
  common::actor hub_thread("broker hub");
  // A bind error in the hub's constructor is rethrown here: a start-up error.
  hub_thread.start([&] {
    broker::hub hub(ctx, settings, server_keys, *core, metrics);
    hub_thread.ready();
    try {
      hub.run(hub_thread);
    } catch (const std::exception& e) {
      DM_LOG(error) << "hub stopped: " << e.what();
      failed = true;
      kill(getpid(), SIGTERM);
    }
    open_at_stop = hub.open_connections();
  });
  DM_LOG(info) << "broker " << settings.broker_id << " serving: xsub " << settings.xsub_endpoint
               << ", xpub " << settings.xpub_endpoint << ", control " << settings.router_endpoint
               << "; at most " << broker::effective_max_connections(settings)
               << " bus connections (two per agent)";
  common::systemd_notifier systemd;
  systemd.ready("broker " + std::to_string(settings.broker_id) + " serving");
  int sig = 0;
  sigwait(&signals, &sig);
  DM_LOG(info) << "stopping on signal " << sig;
  systemd.stopping();
  metrics_server.reset();
  hub_thread.stop();
  int code = failed ? 1 : 0;
  core.reset();  // the directory written and RocksDB closed
  if (open_at_stop > fast_exit_connections) {
    // Closing thousands of connections through libzmq 4.3's XPUB walks its whole subscription
    // trie once per connection (minutes at 10,000 agents: bench/README.md); everything is saved,
    // so the process ends here and the kernel closes them at once.
    DM_LOG(info) << "stopped; leaving " << open_at_stop << " connections to the kernel";
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  common::set_log_component("broker");
  try {
    common::po::options_description options("dockmesh-broker options");
    broker::add_broker_options(options);
    auto pc = common::parse_config(argc, argv, "dockmesh-broker", options);
    if (pc.exit_now) return pc.exit_code;
    return run(broker::broker_settings_from(pc.vm));
  } catch (const std::exception& e) {
    std::cerr << "dockmesh-broker: " << e.what() << "\n";
    return 1;
  }
}
