#include "common/metrics_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "common/log.hpp"

namespace dockmesh::common {
namespace {

constexpr int request_timeout_ms = 2000;
constexpr std::size_t max_request_bytes = 8 * 1024;

std::string response(std::string_view status, std::string_view type, std::string_view body) {
  std::string r = "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: " + std::string(type) +
                  "\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nConnection: close\r\n\r\n";
  r += body;
  return r;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the scraper went away or stalled past SO_SNDTIMEO: nothing to do
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// 's' in single quotes, appended piece by piece: `"'" + std::string` makes GCC 12 at -O3 warn
// -Wrestrict (a false positive inside std::string).
std::string quoted(std::string_view s) {
  std::string out = "'";
  out.append(s).append("'");
  return out;
}

}  // namespace

result<listen_address> parse_listen_address(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return make_error(errc::invalid_argument, quoted(s) + " is not IP:PORT");
  listen_address a;
  auto host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  a.host = std::string(host);
  auto port = s.substr(colon + 1);
  unsigned v = 0;
  auto r = std::from_chars(port.data(), port.data() + port.size(), v);
  if (r.ec != std::errc() || r.ptr != port.data() + port.size() || v > 65535)
    return make_error(errc::invalid_argument, quoted(s) + ": bad port");
  a.port = static_cast<std::uint16_t>(v);
  in6_addr probe6{};
  in_addr probe4{};
  if (inet_pton(AF_INET, a.host.c_str(), &probe4) != 1 &&
      inet_pton(AF_INET6, a.host.c_str(), &probe6) != 1)
    return make_error(errc::invalid_argument,
                      quoted(s) + ": the host must be a numeric IPv4 or IPv6 address");
  return a;
}

metrics_server::metrics_server(const listen_address& where, const metrics::registry& registry)
    : registry_(registry) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, where.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(where.port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, where.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(where.port);
    len = sizeof *v6;
  } else {
    throw std::runtime_error("--metrics-listen: '" + where.host + "' is not a numeric address");
  }
  listen_fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    std::string why = std::strerror(errno);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw std::runtime_error("--metrics-listen: cannot listen on " + where.host + ":" +
                             std::to_string(where.port) + ": " + why);
  }
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { run(); });
}

metrics_server::~metrics_server() {
  std::uint64_t one = 1;
  if (::write(stop_fd_, &one, sizeof one) < 0) {
    DM_LOG(warn) << "metrics server: cannot signal stop";
  }
  thread_.join();
  ::close(listen_fd_);
  ::close(stop_fd_);
}

void metrics_server::run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    serve(fd);
    ::close(fd);
  }
}

void metrics_server::serve(int fd) {
  timeval tv{request_timeout_ms / 1000, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(request_timeout_ms);
  std::string req;
  char buf[2048];
  while (req.find("\r\n\r\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || req.size() > max_request_bytes) return;
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(left.count())) <= 0 || fds[1].revents) return;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<std::size_t>(n));
  }
  std::string_view line(req.data(), req.find("\r\n"));
  auto sp1 = line.find(' ');
  auto sp2 = line.find(' ', sp1 == std::string_view::npos ? 0 : sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos)
    return write_all(fd, response("400 Bad Request", "text/plain", "bad request line\n"));
  auto method = line.substr(0, sp1);
  auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));  // Prometheus may add ?name[]=... parameters
  if (target != "/metrics")
    return write_all(fd, response("404 Not Found", "text/plain", "only /metrics is served here\n"));
  if (method != "GET")
    return write_all(fd, response("405 Method Not Allowed", "text/plain", "use GET\n"));
  scrapes_.fetch_add(1);
  write_all(fd, response("200 OK", "text/plain; version=0.0.4; charset=utf-8", registry_.render()));
}

void add_metrics_listen_option(boost::program_options::options_description& options) {
  options.add_options()("metrics-listen", boost::program_options::value<std::string>(),
                        "IP:PORT of a Prometheus /metrics listener (off unless set; keep it on "
                        "loopback or a management network: it has no authentication)");
}

std::string metrics_listen_from(const boost::program_options::variables_map& vm) {
  return vm.count("metrics-listen") ? vm["metrics-listen"].as<std::string>() : std::string();
}

std::unique_ptr<metrics_server> start_metrics_server(const std::string& address,
                                                     metrics::registry& registry) {
  if (address.empty()) return nullptr;
  auto where = parse_listen_address(address);
  if (!where) throw std::runtime_error("--metrics-listen: " + where.err().message);
  metrics::add_process_metrics(registry);
  auto server = std::make_unique<metrics_server>(*where, registry);
  DM_LOG(info) << "metrics on http://" << address << "/metrics";
  return server;
}

}  // namespace dockmesh::common
