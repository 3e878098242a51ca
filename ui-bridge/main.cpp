// dockmesh-bridge: the HTTP + WebSocket API and web UI of a dockmesh mesh.
//   dockmesh-bridge --data-dir DIR --listen 127.0.0.1:PORT --broker HOST:PORT --broker-key KEY
//                   --key FILE [--static-dir DIR] [--admin-password-file FILE]
//   dockmesh-bridge user add|passwd|remove|list --data-dir DIR
// Parses the configuration, builds the bridge, runs until SIGINT/SIGTERM, stops cleanly.
#include <csignal>
#include <cstring>
#include <iostream>

#include <zmq.hpp>

#include "common/config.hpp"
#include "common/log.hpp"
#include "common/systemd_notifier.hpp"
#include "ui-bridge/bridge_app.hpp"
#include "ui-bridge/user_command.hpp"

namespace po = boost::program_options;

namespace {

// Blocks SIGINT/SIGTERM in this thread and in every thread started after it, so that only
// sigwait() in main sees them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int run_bridge(int argc, char** argv) {
  po::options_description options("dockmesh-bridge options");
  dockmesh::bridge::add_bridge_options(options);
  auto config = dockmesh::common::parse_config(argc, argv, "dockmesh-bridge", options);
  if (config.exit_now) return config.exit_code;
  auto set = block_stop_signals();
  std::signal(SIGPIPE, SIG_IGN);
  dockmesh::bridge::bridge_app app(dockmesh::bridge::bridge_config_from(config.vm));
  app.start();
  dockmesh::common::systemd_notifier systemd;
  systemd.ready("bridge serving");
  int sig = 0;
  sigwait(&set, &sig);
  DM_LOG(info) << "stopping on signal " << sig;
  systemd.stopping();
  app.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dockmesh::common::set_log_component("bridge");
  try {
    if (argc > 1 && std::strcmp(argv[1], "user") == 0)
      return dockmesh::bridge::run_user_command(argc - 1, argv + 1, std::cout, std::cerr);
    return run_bridge(argc, argv);
  } catch (const zmq::error_t& e) {
    std::cerr << "dockmesh-bridge: ZeroMQ error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "dockmesh-bridge: " << e.what() << "\n";
  }
  return 2;
}
