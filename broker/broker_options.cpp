#include "broker/broker_options.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "common/metrics_server.hpp"
#include "common/storage/etcd_client.hpp"

namespace dockmesh::broker {

namespace po = boost::program_options;

void add_broker_options(po::options_description& options) {
  options.add_options()("data-dir", po::value<std::string>(),
                        "RocksDB directory: keys, tokens, hosts, containers")(
      "server-key", po::value<std::string>(),
      "the mesh's broker CURVE key file (shared by all brokers)")(
      "authorized-keys", po::value<std::string>(),
      "file of '<role> <name> <public-key>' lines merged into the key store at start")(
      "xsub-endpoint", po::value<std::string>()->default_value("tcp://127.0.0.1:7400"),
      "where publishers connect")("xpub-endpoint",
                                  po::value<std::string>()->default_value("tcp://127.0.0.1:7401"),
                                  "where subscribers connect")(
      "router-endpoint", po::value<std::string>()->default_value("tcp://127.0.0.1:7402"),
      "control endpoint: directory queries, enrollment, keys")(
      "advertise-endpoint", po::value<std::string>(),
      "with --etcd: the control endpoint as other brokers reach it, tcp://HOST:PORT, recorded "
      "in etcd so that a broker starting late can ask this one for the directory; default: "
      "--router-endpoint when that names an address (not * or 0.0.0.0)")(
      "broker-id", po::value<int>()->default_value(1),
      "this broker's id; without --etcd the lowest id among live brokers schedules req/any/, "
      "with --etcd an election in etcd decides")(
      "peer", po::value<std::vector<std::string>>()->composing(),
      "another broker of the mesh, HOST:PORT of its XSUB endpoint (repeatable); used to see "
      "which brokers are alive")(
      "down-after-ms", po::value<std::int64_t>()->default_value(3200),
      "a host not heard from for this long is down (3 missed 1 s heartbeats)")(
      "gone-after-seconds", po::value<std::int64_t>()->default_value(86400),
      "a host down for this long is gone (its containers leave the index)")(
      "max-message-bytes", po::value<std::size_t>()->default_value(4 * 1024 * 1024),
      "largest frame accepted on any socket (ZMQ_MAXMSGSIZE)")(
      "high-water-mark", po::value<int>()->default_value(100000), "per-connection queue bound")(
      "max-connections", po::value<int>()->default_value(0),
      "bus connections (two per agent) admitted at once; more are refused until some close, and "
      "their clients retry (0: the open-file limit less 512 kept for the broker's own files)")(
      "io-threads", po::value<int>()->default_value(1), "ZeroMQ I/O threads (CURVE runs there)")(
      "etcd", po::value<std::string>(),
      "etcd client URLs, http://HOST:PORT[,...]: keys, placements and the scheduler's leadership "
      "live there (several brokers); without it the broker runs on RocksDB alone")(
      "etcd-prefix", po::value<std::string>()->default_value("dockmesh/"),
      "prefix of every key the broker writes in etcd (one mesh per prefix)")(
      "etcd-lease-ttl", po::value<std::int64_t>()->default_value(1),
      "seconds: the scheduler leader's lease; a dead leader is replaced after about this long");
  common::add_metrics_listen_option(options);
}

bool names_an_address(const std::string& endpoint) {
  constexpr std::string_view scheme = "tcp://";
  if (endpoint.compare(0, scheme.size(), scheme) != 0) return false;
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon <= scheme.size()) return false;
  std::string host = endpoint.substr(scheme.size(), colon - scheme.size());
  std::string port = endpoint.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return false;
  return host != "*" && host != "0.0.0.0" && host != "[::]" && host != "::" && host != "[*]";
}

broker_settings broker_settings_from(const po::variables_map& vm) {
  auto need = [&](const char* name) {
    if (!vm.count(name)) throw std::runtime_error(std::string("--") + name + " is required");
    return vm[name].as<std::string>();
  };
  broker_settings s;
  s.data_dir = need("data-dir");
  s.server_key_file = need("server-key");
  s.authorized_keys_file = need("authorized-keys");
  s.xsub_endpoint = vm["xsub-endpoint"].as<std::string>();
  s.xpub_endpoint = vm["xpub-endpoint"].as<std::string>();
  s.router_endpoint = vm["router-endpoint"].as<std::string>();
  s.advertise_endpoint = vm.count("advertise-endpoint") ? vm["advertise-endpoint"].as<std::string>()
                                                        : s.router_endpoint;
  s.broker_id = vm["broker-id"].as<int>();
  if (s.broker_id < 0) throw std::runtime_error("--broker-id must be 0 or more");
  if (vm.count("peer"))
    for (const auto& p : vm["peer"].as<std::vector<std::string>>()) {
      auto a = common::parse_broker_address(p);
      if (!a) throw std::runtime_error("--peer " + p + ": " + a.err().message);
      s.peers.push_back(*a);
    }
  s.down_after_ms = vm["down-after-ms"].as<std::int64_t>();
  if (s.down_after_ms < 100) throw std::runtime_error("--down-after-ms must be at least 100");
  auto gone = vm["gone-after-seconds"].as<std::int64_t>();
  if (gone < 1) throw std::runtime_error("--gone-after-seconds must be at least 1");
  s.gone_after_ms = gone * 1000;
  s.max_message_bytes = vm["max-message-bytes"].as<std::size_t>();
  if (s.max_message_bytes < 1024)
    throw std::runtime_error("--max-message-bytes must be at least 1024");
  s.high_water_mark = vm["high-water-mark"].as<int>();
  s.max_connections = vm["max-connections"].as<int>();
  if (s.max_connections < 0) throw std::runtime_error("--max-connections must be 0 or more");
  s.io_threads = vm["io-threads"].as<int>();
  if (s.io_threads < 1 || s.io_threads > 16) throw std::runtime_error("--io-threads must be 1..16");
  if (vm.count("etcd"))
    s.etcd_endpoints = common::parse_etcd_endpoints(vm["etcd"].as<std::string>());
  s.etcd_prefix = vm["etcd-prefix"].as<std::string>();
  if (s.etcd_prefix.empty() || s.etcd_prefix.back() != '/')
    throw std::runtime_error("--etcd-prefix must end with '/'");
  if (!s.etcd_endpoints.empty() && !names_an_address(s.advertise_endpoint))
    throw std::runtime_error("--advertise-endpoint " + s.advertise_endpoint +
                             ": other brokers cannot reach that; give tcp://HOST:PORT" +
                             (vm.count("advertise-endpoint") ? ""
                                                             : " (--router-endpoint binds "
                                                               "a wildcard address)"));
  s.etcd_lease_ttl_s = vm["etcd-lease-ttl"].as<std::int64_t>();
  if (s.etcd_lease_ttl_s < 1 || s.etcd_lease_ttl_s > 60)
    throw std::runtime_error("--etcd-lease-ttl must be 1..60 seconds");
  s.metrics_listen = common::metrics_listen_from(vm);
  return s;
}

int effective_max_connections(const broker_settings& s) {
  if (s.max_connections > 0) return s.max_connections;
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) return 1 << 20;
  auto limit = static_cast<long long>(files.rlim_cur) - broker_settings::reserved_fds;
  return static_cast<int>(std::clamp(limit, 16LL, static_cast<long long>(1 << 20)));
}

}  // namespace dockmesh::broker
