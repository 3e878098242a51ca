#include "agent/exec_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace dockmesh::agent {
namespace {

using common::errc;
using common::make_error;

common::result<int> connect_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path)
    return make_error(errc::invalid_argument, "the Docker socket path is too long");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(errc::unavailable, std::string("socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    return make_error(errc::unavailable,
                      "cannot reach dockerd at " + path + ": " + std::strerror(e));
  }
  return fd;
}

// Reads the HTTP answer's head (up to 16 KiB, 10 s); what came after it is output.
common::result<std::string> read_head(int fd, std::string& rest) {
  std::string buf;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (buf.find("\r\n\r\n") == std::string::npos) {
    if (buf.size() > 16384 || std::chrono::steady_clock::now() > deadline)
      return make_error(errc::unavailable, "dockerd did not answer the exec start");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    char chunk[4096];
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return make_error(errc::unavailable, "dockerd closed the exec connection");
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  auto end = buf.find("\r\n\r\n");
  rest = buf.substr(end + 4);
  return buf.substr(0, end);
}

}  // namespace

common::result<exec_socket> exec_socket::start(const std::string& socket_path,
                                               const std::string& api_version,
                                               const std::string& exec_id, bool tty) {
  auto fd = connect_unix(socket_path);
  if (!fd) return fd.err();
  exec_socket s(*fd);
  std::string body = std::string("{\"Detach\":false,\"Tty\":") + (tty ? "true" : "false") + "}";
  std::string request = "POST /v" + api_version + "/exec/" + exec_id +
                        "/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\n"
                        "Upgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  if (auto w = s.write_all(request); !w) return w.err();
  auto head = read_head(s.fd_, s.early_);
  if (!head) return head.err();
  // 101 Switching Protocols (or 200 from older daemons) opens the pipe; anything else is an
  // error whose body names it.
  auto sp = head->find(' ');
  std::string status = sp == std::string::npos ? "" : head->substr(sp + 1, 3);
  if (status != "101" && status != "200")
    return make_error(status == "404" ? errc::not_found : errc::unavailable,
                      "dockerd refused the exec start (" + head->substr(0, head->find('\r')) + ")");
  return s;
}

exec_socket::exec_socket(exec_socket&& o) noexcept : fd_(o.fd_), early_(std::move(o.early_)) {
  o.fd_ = -1;
}

exec_socket::~exec_socket() {
  if (fd_ >= 0) ::close(fd_);
}

common::result<std::string> exec_socket::read_some() {
  char buf[16384];
  ssize_t n;
  do {
    n = ::read(fd_, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return make_error(errc::unavailable, std::string("exec connection: ") + std::strerror(errno));
  return std::string(buf, static_cast<std::size_t>(n));
}

common::result<void> exec_socket::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(errc::unavailable, std::string("exec connection: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

void exec_socket::close_input() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

}  // namespace dockmesh::agent
