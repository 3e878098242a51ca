// exec_socket: the connection an exec session runs over. POST /exec/{id}/start with
// "Upgrade: tcp" turns dockerd's HTTP connection into a raw byte pipe (Docker "hijacks" it):
// stdin goes in, output comes out (multiplexed like logs unless the exec has a TTY). libcurl
// does not hand such a connection back, so this class speaks the few lines of HTTP itself over
// the daemon's unix socket. Owned by the exec's stream thread; reads and writes block at most
// for the socket's readiness, which the caller polls on fd().
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace dockmesh::agent {

class exec_socket {
 public:
  // Connects to `socket_path`, sends POST /v<api>/exec/<exec_id>/start and reads the 101 answer.
  // `exec_id` must already be checked (hex). errc::unavailable when dockerd is not reachable.
  static common::result<exec_socket> start(const std::string& socket_path,
                                           const std::string& api_version,
                                           const std::string& exec_id, bool tty);
  exec_socket(exec_socket&& o) noexcept;
  exec_socket& operator=(exec_socket&&) = delete;
  exec_socket(const exec_socket&) = delete;
  ~exec_socket();

  int fd() const { return fd_; }
  // Output bytes that arrived with the HTTP answer (read them before the first read_some).
  std::string take_early() { return std::move(early_); }
  // Some output bytes; an empty string at end of stream. errc::unavailable on a broken pipe.
  common::result<std::string> read_some();
  common::result<void> write_all(std::string_view bytes);
  // No more input: half-closes the connection so that the process sees end of file.
  void close_input();

 private:
  explicit exec_socket(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::string early_;
};

}  // namespace dockmesh::agent
