// bench_sim_agents: one process of SIMULATED agents for bench_scale (see sim_fleet.hpp). Reads
// its agents' keys from --identities, connects them all to the broker, prints "ready <n>" and
// runs until SIGTERM. Started and stopped by bench_scale, by pid.
#include <csignal>
#include <iostream>

#include <boost/program_options.hpp>

#include "bench/bench_support.hpp"
#include "bench/sim_fleet.hpp"
#include "common/curve_keys.hpp"

namespace {

std::atomic<bool> stop_flag{false};
void on_signal(int) {
  stop_flag = true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dockmesh;
  namespace po = boost::program_options;
  po::options_description opts("bench_sim_agents options");
  opts.add_options()("help", "this text")("identities", po::value<std::string>()->required(),
                                          "file of '<fqdn> <public> <secret>' lines")(
      "broker", po::value<std::string>()->required(), "broker HOST:PORT")(
      "broker-key", po::value<std::string>()->required(), "broker public key (Z85 or key file)")(
      "containers", po::value<int>()->default_value(5), "containers in each simulated inventory")(
      "joining", po::value<int>()->default_value(0),
      "agents connecting at once (the next when one has finished its handshake); 0: all at once")(
      "handshake-timeout-ms", po::value<int>()->default_value(3000),
      "CURVE handshake timeout of each simulated agent");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, opts), vm);
    if (vm.count("help")) {
      std::cout << opts;
      return 0;
    }
    po::notify(vm);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    bench::raise_fd_limit();
    auto ids = bench::load_sim_identities(vm["identities"].as<std::string>());
    bench::sim_options o;
    auto b = common::parse_broker_address(vm["broker"].as<std::string>());
    if (!b) throw std::runtime_error(b.err().message);
    o.brokers.push_back(*b);
    o.broker_public_key = common::resolve_public_key(vm["broker-key"].as<std::string>());
    o.containers_per_agent = vm["containers"].as<int>();
    o.max_joining = vm["joining"].as<int>();
    o.handshake_timeout = std::chrono::milliseconds(vm["handshake-timeout-ms"].as<int>());
    zmq::context_t ctx(1);
    // Per agent: bus_client's PUB and SUB, and for each a handshake monitor: its PAIR and
    // libzmq's own end (with too few the 5,000-agent run failed: EMFILE from zmq_socket).
    ctx.set(zmq::ctxopt::max_sockets, static_cast<int>(ids.size() * 6 + 64));
    {
      bench::sim_fleet fleet(ctx, o, ids);
      std::cout << "ready " << ids.size() << std::endl;
      fleet.run(stop_flag);
      std::cout << "stopping: " << fleet.counters().heartbeats << " heartbeats, "
                << fleet.counters().requests << " requests, " << fleet.counters().replies
                << " replies" << std::endl;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_sim_agents: " << e.what() << "\n";
    return 1;
  }
}
