// metrics_server: the tiny HTTP/1.1 listener behind --metrics-listen IP:PORT. It answers
// `GET /metrics` with a registry's text exposition (format 0.0.4), 404 for other paths and 405 for
// other methods, one connection at a time, Connection: close. Owned by the daemon's main; runs on
// a thread of its own, never on a bus or forwarding loop, so a slow scraper delays only the next
// scrape. Each connection gets 2 s to send its request line and headers (8 KiB at most). The
// constructor binds (throws a clear std::runtime_error on a bad address or a port in use);
// the destructor stops the thread through an eventfd and joins it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <boost/program_options.hpp>

#include "common/metrics.hpp"
#include "common/result.hpp"

namespace dockmesh::common {

struct listen_address {
  std::string host;  // numeric IPv4 or IPv6 (without brackets)
  std::uint16_t port = 0;
};

// "127.0.0.1:9400", "[::1]:9400", "0.0.0.0:0" (0: any free port).
result<listen_address> parse_listen_address(std::string_view s);

class metrics_server {
 public:
  metrics_server(const listen_address& where, const metrics::registry& registry);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  std::uint16_t port() const { return port_; }  // the bound port (useful with port 0)
  std::uint64_t scrapes() const { return scrapes_.load(); }

 private:
  void run();
  void serve(int fd);

  const metrics::registry& registry_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> scrapes_{0};
  std::thread thread_;
};

// --metrics-listen IP:PORT for a daemon's option table; its value ("" when absent).
void add_metrics_listen_option(boost::program_options::options_description& options);
std::string metrics_listen_from(const boost::program_options::variables_map& vm);
// The server for `address` (null when it is empty: nothing listens unless configured), rendering
// `registry`, to which the process_* metrics are added. Throws on a bad address or bind failure.
std::unique_ptr<metrics_server> start_metrics_server(const std::string& address,
                                                     metrics::registry& registry);

}  // namespace dockmesh::common
