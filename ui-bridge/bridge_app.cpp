#include "ui-bridge/bridge_app.hpp"

#include "ui-bridge/bridge_metrics.hpp"

#include <filesystem>
#include <iostream>

#include "common/bus_identity.hpp"
#include "common/config.hpp"
#include "common/envelope.hpp"
#include "common/log.hpp"
#include "common/private_file.hpp"
#include "common/storage/etcd_client.hpp"
#include "ui-bridge/base64url.hpp"
#include "ui-bridge/etcd_kv_store.hpp"

#ifndef DOCKMESH_BRIDGE_WEB_DIR
#define DOCKMESH_BRIDGE_WEB_DIR "/usr/share/dockmesh/web"
#endif
#ifndef DOCKMESH_SCHEMAS_DIR
#define DOCKMESH_SCHEMAS_DIR "/usr/share/dockmesh/schemas"
#endif
#ifndef DOCKMESH_BRIDGE_BUILD_WEB_DIR
#define DOCKMESH_BRIDGE_BUILD_WEB_DIR DOCKMESH_BRIDGE_WEB_DIR
#endif
#ifndef DOCKMESH_BUILD_SCHEMAS_DIR
#define DOCKMESH_BUILD_SCHEMAS_DIR DOCKMESH_SCHEMAS_DIR
#endif

namespace dockmesh::bridge {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// The build tree's copy when it exists (running from a checkout), else the packaged one.
std::string default_dir(const char* built_in, const char* packaged) {
  return fs::is_directory(built_in) ? built_in : packaged;
}

}  // namespace

void add_bridge_options(po::options_description& o) {
  // clang-format off
  o.add_options()
      ("data-dir", po::value<std::string>(), "directory for users, tokens, jobs and the JWT key")
      ("listen", po::value<std::string>()->default_value("127.0.0.1:8080"), "HTTP address IP:PORT")
      ("static-dir", po::value<std::string>(), "web UI files (default: the built-in UI)")
      ("schemas-dir", po::value<std::string>(), "JSON Schemas of the messages (default: built-in)")
      ("admin-password-file", po::value<std::string>(), "first start: write admin's password here")
      ("etcd", po::value<std::string>(), "keep users, tokens and the JWT key in etcd: URL,URL,... (bridges share them)")
      ("docker-api-listen", po::value<std::string>(), "Docker-compatible endpoint IP:PORT (off unless set)")
      ("threads", po::value<int>()->default_value(2), "HTTP worker threads")
      ("max-connections", po::value<int>()->default_value(4096), "open HTTP/WebSocket connections at most")
      ("session-ttl", po::value<int>()->default_value(900), "login session lifetime, seconds")
      ("job-ttl", po::value<int>()->default_value(3600), "finished jobs are kept this long, seconds")
      ("max-jobs", po::value<int>()->default_value(1000), "jobs kept at most")
      ("hosts-cache-ms", po::value<int>()->default_value(200), "reuse a host list this long")
      ("login-failures-per-user", po::value<int>()->default_value(5), "per minute, then 429")
      ("login-failures-per-address", po::value<int>()->default_value(20), "per minute, then 429");
  // clang-format on
  common::add_bus_client_options(o);
  common::add_metrics_listen_option(o);
  add_stats_history_options(o);
}

bridge_config bridge_config_from(const po::variables_map& vm) {
  bridge_config c;
  if (!vm.count("data-dir")) throw std::runtime_error("--data-dir is required");
  c.data_dir = vm["data-dir"].as<std::string>();
  c.listen = vm["listen"].as<std::string>();
  c.static_dir = vm.count("static-dir")
                     ? vm["static-dir"].as<std::string>()
                     : default_dir(DOCKMESH_BRIDGE_BUILD_WEB_DIR, DOCKMESH_BRIDGE_WEB_DIR);
  c.schemas_dir = vm.count("schemas-dir")
                      ? vm["schemas-dir"].as<std::string>()
                      : default_dir(DOCKMESH_BUILD_SCHEMAS_DIR, DOCKMESH_SCHEMAS_DIR);
  if (vm.count("admin-password-file"))
    c.admin_password_file = vm["admin-password-file"].as<std::string>();
  if (vm.count("etcd"))
    c.etcd_endpoints = common::parse_etcd_endpoints(vm["etcd"].as<std::string>());
  if (vm.count("docker-api-listen"))
    c.docker_api_listen = vm["docker-api-listen"].as<std::string>();
  auto positive = [&](const char* name) {
    int v = vm[name].as<int>();
    if (v <= 0) throw std::runtime_error(std::string("--") + name + " must be positive");
    return v;
  };
  c.threads = positive("threads");
  c.max_connections = static_cast<std::size_t>(positive("max-connections"));
  c.session_ttl = std::chrono::seconds(positive("session-ttl"));
  c.jobs.ttl = std::chrono::seconds(positive("job-ttl"));
  c.jobs.max_jobs = static_cast<std::size_t>(positive("max-jobs"));
  c.bus.hosts_cache = std::chrono::milliseconds(std::max(0, vm["hosts-cache-ms"].as<int>()));
  c.per_user.max_failures = static_cast<std::size_t>(positive("login-failures-per-user"));
  c.per_address.max_failures = static_cast<std::size_t>(positive("login-failures-per-address"));
  // bridge-<random>_<our key>: a reply topic only this bridge's key may read.
  c.bus_options = common::bus_client_options_from(vm, {});
  auto id = common::key_bound_client_id("bridge-" + random_hex(4), c.bus_options.keys.public_key);
  if (!id) throw std::runtime_error("cannot build a client id: " + id.err().message);
  c.bus_options.client_id = std::move(*id);
  c.metrics_listen = common::metrics_listen_from(vm);
  c.stats = stats_history_config_from(vm);
  return c;
}

bridge_app::bridge_app(bridge_config config)
    : config_(std::move(config)),
      per_user_(config_.per_user),
      per_address_(config_.per_address),
      ioc_(std::make_unique<boost::asio::io_context>(config_.threads)),
      connections_(config_.max_connections),
      pool_(2, 64) {
  fs::create_directories(config_.data_dir);
  fs::permissions(config_.data_dir, fs::perms::owner_all, fs::perm_options::replace);
  kv_ = std::make_unique<rocks_kv_store>(config_.data_dir + "/db");
  // Users, tokens and the signing key: in etcd when bridges share them, else beside the jobs.
  if (!config_.etcd_endpoints.empty())
    shared_ = std::make_unique<etcd_kv_store>(config_.etcd_endpoints);
  kv_store& accounts = shared_ ? *shared_ : *kv_;
  users_ = std::make_unique<user_store>(accounts);
  tokens_ = std::make_unique<token_store>(accounts);
  jwt_ = std::make_unique<jwt_codec>(shared_ ? load_or_create_key(*shared_)
                                             : load_or_create_key(config_.data_dir + "/jwt.key"));
  auth_ = std::make_unique<authenticator>(*jwt_, *users_, *tokens_, config_.session_ttl);
  jobs_ = std::make_unique<job_store>(*kv_, config_.jobs, common::now_ms());
  schemas_ = schema_registry::load_dir(config_.schemas_dir);
  files_ = static_files::load_dir(config_.static_dir);
  bus_ = std::make_unique<bus_actor>(
      config_.bus_options,
      [this](const common::bus_message& m) {
        events_.publish_bus(m);
        runner_->on_event(m);
      },
      config_.bus);
  gateway_ = std::make_unique<message_gateway>(schemas_, *bus_);
  runner_ = std::make_unique<job_runner>(*jobs_, *gateway_, events_, ioc_->get_executor());
  if (config_.stats.enabled) {
    container_stats_ = std::make_unique<stats_history>(config_.stats.limits);
    host_stats_ = std::make_unique<stats_history>(config_.stats.limits);
    sampler_ = std::make_unique<stats_sampler>(ioc_->get_executor(), *gateway_, *container_stats_,
                                               *host_stats_, config_.stats.interval);
    keep_stats_history();
  }
  services_.reset(new bridge_services{*users_, *tokens_, *auth_, per_user_, per_address_, *jobs_,
                                      *runner_, *gateway_, events_, pool_, container_stats_.get(),
                                      host_stats_.get()});
  api_ = std::make_unique<api_dispatcher>(*services_);
  site_.reset(new http_site{*api_, files_, *services_, connections_});
  listener_ = std::make_shared<http_listener>(*ioc_, parse_listen_address(config_.listen), *site_);
  if (!config_.metrics_listen.empty()) {
    // A listener of its own, like the broker's and agent's, rather than /metrics behind an admin
    // token on the API listener: Prometheus would otherwise hold a credential that can do
    // anything on the mesh, and the API listener may face users while metrics stay on a
    // management address (docs/metrics.md).
    metrics_server_ =
        common::start_metrics_server(config_.metrics_listen, common::metrics::default_registry());
    job_counts_ = bridge_metrics::get().add_job_counts(*jobs_);
  }
  make_docker_endpoint();
  first_start();
}

// The history survives a restart: read back at start, written every --stats-save-interval and at
// stop. A file that cannot be read is logged and set aside; the bridge starts with no history.
void bridge_app::keep_stats_history() {
  if (config_.stats.save_interval.count() == 0) return;
  std::string path = config_.data_dir + "/stats-history.msgpack";
  auto loaded = load_stats_file(path, *container_stats_, *host_stats_, common::now_ms());
  if (loaded) {
    DM_LOG(info) << "stats history: " << *loaded << " point(s) restored from " << path;
  } else {
    DM_LOG(warn) << "stats history not restored: " << loaded.err().message;
    std::error_code ec;
    fs::rename(path, path + ".unreadable", ec);
  }
  stats_keeper_ = std::make_unique<stats_history_keeper>(path, *container_stats_, *host_stats_,
                                                         config_.stats.save_interval);
}

void bridge_app::make_docker_endpoint() {
  if (config_.docker_api_listen.empty()) return;
  docker_api_ = std::make_unique<docker_api>(*services_);
  docker_site_.reset(new docker_site{*docker_api_, *auth_, connections_});
  docker_listener_ = std::make_shared<http_listener>(
      *ioc_, parse_listen_address(config_.docker_api_listen), connections_,
      [site = docker_site_.get()](boost::asio::ip::tcp::socket&& s, connection_limit::slot slot) {
        std::make_shared<docker_api_session>(std::move(s), *site, std::move(slot))->run();
      });
}

bridge_app::~bridge_app() {
  stop();
  metrics_server_.reset();
  if (job_counts_) bridge_metrics::get().remove_job_counts(job_counts_);
  // Handlers still queued hold sessions, and sessions use the services: destroy them (with the
  // io_context) while every service is still alive.
  listener_.reset();
  docker_listener_.reset();
  // The sampler's timer belongs to the io_context: it must go first (ASan caught the timer
  // destroyed after its io_context's timer service).
  sampler_.reset();
  ioc_.reset();
}

void bridge_app::first_start() {
  auto password = users_->ensure_first_admin();
  if (!password) throw std::runtime_error(password.err().message);
  if (!password->has_value()) return;
  // With a password file the secret goes there only (mode 0600), never to stdout: under systemd
  // stdout is the journal, which more people may read than the file.
  if (!config_.admin_password_file.empty()) {
    common::write_private_file(config_.admin_password_file, **password + "\n");
    std::cout << "dockmesh-bridge: first start: created user 'admin'; its password is in "
              << config_.admin_password_file << std::endl;
    return;
  }
  std::cout << "dockmesh-bridge: first start: created user 'admin' with password " << **password
            << " (shown once)" << std::endl;
}

void bridge_app::start() {
  bus_->start();
  if (sampler_) sampler_->start();
  if (stats_keeper_) stats_keeper_->start();
  listener_->start();
  if (docker_listener_) docker_listener_->start();
  for (int i = 0; i < config_.threads; ++i) threads_.emplace_back([this] { run_io(); });
  DM_LOG(info) << "listening on http://" << endpoint().address().to_string() << ":"
               << endpoint().port() << " (" << schemas_.names().size() << " schemas, "
               << files_.size() << " UI files)";
  if (docker_listener_) {
    DM_LOG(info) << "Docker-compatible endpoint on tcp://"
                 << docker_endpoint().address().to_string() << ":" << docker_endpoint().port();
  }
}

void bridge_app::run_io() {
  // A handler that throws would otherwise end this thread and, with it, the process. Log it and
  // keep serving: that one request may go unanswered, every other one is unaffected.
  for (;;) {
    try {
      ioc_->run();
      return;
    } catch (const std::exception& e) {
      DM_LOG(error) << "an HTTP handler threw: " << e.what();
    }
  }
}

void bridge_app::stop() {
  if (stopped_) return;
  stopped_ = true;
  listener_->stop();
  if (docker_listener_) docker_listener_->stop();
  if (sampler_) sampler_->stop();
  bus_->stop();  // fails pending requests; their completions post to strands still running
  pool_.stop();
  ioc_->stop();
  for (auto& t : threads_) t.join();
  if (stats_keeper_) stats_keeper_->stop();  // the last save, once nothing samples any more
}

}  // namespace dockmesh::bridge
