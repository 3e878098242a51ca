// bridge_app: the whole bridge process, assembled: its options, the RocksDB stores (users, API
// tokens, jobs), the JWT key, the schemas and UI files, the bus thread, the HTTP/WebSocket server
// on a small io_context thread pool, and the blocking pool for password hashing. main() builds
// one, start()s it, waits for a signal and stop()s it. Construction does all the start-up checks
// and throws a clear std::runtime_error on any of them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>

#include "common/bus_client.hpp"
#include "common/metrics_server.hpp"
#include "ui-bridge/api_dispatcher.hpp"
#include "ui-bridge/docker_api.hpp"
#include "ui-bridge/docker_api_session.hpp"
#include "ui-bridge/http_listener.hpp"
#include "ui-bridge/stats_history_file.hpp"
#include "ui-bridge/stats_sampler.hpp"

namespace dockmesh::bridge {

struct bridge_config {
  std::string data_dir;
  std::vector<std::string> etcd_endpoints;  // --etcd: users, tokens and JWT key there
  std::string listen = "127.0.0.1:8080";
  std::string static_dir;
  std::string schemas_dir;
  std::string admin_password_file;
  std::string docker_api_listen;  // IP:PORT of the Docker-compatible endpoint; empty = off
  int threads = 2;
  std::size_t max_connections = 4096;
  std::chrono::seconds session_ttl{900};
  job_limits jobs;
  bus_actor_settings bus;
  rate_limit per_user{5, std::chrono::seconds(60)};
  rate_limit per_address{20, std::chrono::seconds(60)};
  common::bus_client_options bus_options;
  std::string metrics_listen;  // --metrics-listen IP:PORT; empty: no metrics listener
  stats_history_config stats;  // --stats-history, --stats-interval, --stats-max-containers
};

void add_bridge_options(boost::program_options::options_description& options);
bridge_config bridge_config_from(const boost::program_options::variables_map& vm);  // throws

class bridge_app {
 public:
  explicit bridge_app(bridge_config config);
  ~bridge_app();
  void start();
  void stop();
  boost::asio::ip::tcp::endpoint endpoint() const { return listener_->local_endpoint(); }
  // The Docker-compatible endpoint's address (only when --docker-api-listen is set).
  boost::asio::ip::tcp::endpoint docker_endpoint() const {
    return docker_listener_->local_endpoint();
  }

 private:
  void first_start();
  void make_docker_endpoint();
  void keep_stats_history();
  void run_io();

  bridge_config config_;
  std::unique_ptr<kv_store> kv_;      // this bridge's RocksDB: jobs, and accounts without etcd
  std::unique_ptr<kv_store> shared_;  // --etcd: users, tokens and the JWT key, shared by bridges
  std::unique_ptr<user_store> users_;
  std::unique_ptr<token_store> tokens_;
  std::unique_ptr<jwt_codec> jwt_;
  std::unique_ptr<authenticator> auth_;
  rate_limiter per_user_;
  rate_limiter per_address_;
  std::unique_ptr<job_store> jobs_;
  schema_registry schemas_;
  static_files files_;
  event_hub events_;
  std::unique_ptr<boost::asio::io_context> ioc_;  // reset first on destruction
  connection_limit connections_;
  std::unique_ptr<bus_actor> bus_;
  std::unique_ptr<message_gateway> gateway_;
  std::unique_ptr<job_runner> runner_;
  // Usage history (docs/bridge.md, "Stats history"): all three exist unless --stats-history 0.
  std::unique_ptr<stats_history> container_stats_;
  std::unique_ptr<stats_history> host_stats_;
  std::unique_ptr<stats_sampler> sampler_;
  std::unique_ptr<stats_history_keeper> stats_keeper_;  // unless --stats-save-interval 0
  blocking_pool pool_;
  std::unique_ptr<bridge_services> services_;
  std::unique_ptr<api_dispatcher> api_;
  std::unique_ptr<http_site> site_;
  std::shared_ptr<http_listener> listener_;
  // The Docker-compatible endpoint: all three exist only with --docker-api-listen.
  std::unique_ptr<docker_api> docker_api_;
  std::unique_ptr<docker_site> docker_site_;
  std::shared_ptr<http_listener> docker_listener_;
  std::vector<std::thread> threads_;
  std::unique_ptr<common::metrics_server> metrics_server_;  // --metrics-listen only
  std::size_t job_counts_ = 0;                              // its collector's id
  bool stopped_ = false;
};

}  // namespace dockmesh::bridge
