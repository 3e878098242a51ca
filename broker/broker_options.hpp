// broker_options: dockmesh-broker's configuration table (command line, DOCKMESH_* environment,
// config file, via common/config.hpp) and the settings struct the broker is built from.
// Start-up only: broker_settings_from throws std::runtime_error with a clear message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/bus_client.hpp"

namespace dockmesh::broker {

struct broker_settings {
  std::string data_dir;
  std::string server_key_file;
  std::string authorized_keys_file;
  std::string xsub_endpoint = "tcp://127.0.0.1:7400";
  std::string xpub_endpoint = "tcp://127.0.0.1:7401";
  std::string router_endpoint = "tcp://127.0.0.1:7402";
  // --advertise-endpoint: the control endpoint as other brokers reach it (with --etcd it is
  // recorded under <prefix>brokers/<id>); defaults to router_endpoint when that names an address.
  std::string advertise_endpoint;
  int broker_id = 1;
  std::vector<common::broker_address> peers;  // other brokers of the mesh (their XSUB port)
  std::int64_t down_after_ms = 3200;
  std::int64_t gone_after_ms = 24LL * 3600 * 1000;
  std::size_t max_message_bytes = 4 * 1024 * 1024;
  int high_water_mark = 100000;
  // --max-connections: bus connections (XSUB + XPUB) admitted at once; a handshake beyond it is
  // refused with ZAP status 300 and the client retries later. 0: the open-file limit less
  // reserved_fds, so that the broker's own files (RocksDB's log and tables) can always be opened.
  int max_connections = 0;
  static constexpr int reserved_fds = 512;
  int io_threads = 1;
  // --etcd: the consensus store of a mesh of several brokers (empty: RocksDB alone).
  std::vector<std::string> etcd_endpoints;
  std::string etcd_prefix = "dockmesh/";
  std::int64_t etcd_lease_ttl_s = 1;
  std::string metrics_listen;    // --metrics-listen IP:PORT; empty: no metrics listener
  bool in_memory_store = false;  // no option: unit tests and benches keep RocksDB in memory
  bool plain_map_store = false;  // no option: fuzz targets keep state in a std::map, no RocksDB

  std::string client_id() const { return "broker-" + std::to_string(broker_id); }
};

void add_broker_options(boost::program_options::options_description& options);
// "tcp://HOST:PORT" with a concrete HOST (not *, 0.0.0.0, :: or an interface name's wildcard).
bool names_an_address(const std::string& endpoint);
broker_settings broker_settings_from(const boost::program_options::variables_map& vm);
// --max-connections, or with 0 the open-file limit (RLIMIT_NOFILE) less reserved_fds (at least 16).
int effective_max_connections(const broker_settings& s);

}  // namespace dockmesh::broker
