// http_listener: accepts TCP connections on the --listen address and starts an http_session for
// each, on a strand of its own (so a connection's handlers never run concurrently, while different
// connections use every thread of the pool). Runs on the io_context threads; start() binds and
// throws a clear error if the address is taken.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "ui-bridge/http_session.hpp"

namespace dockmesh::bridge {

// "127.0.0.1:8080" -> endpoint; throws std::invalid_argument on a malformed address.
boost::asio::ip::tcp::endpoint parse_listen_address(const std::string& s);

class http_listener : public std::enable_shared_from_this<http_listener> {
 public:
  // Starts a session for an accepted connection (on the connection's own strand).
  using session_starter =
      std::function<void(boost::asio::ip::tcp::socket&&, connection_limit::slot)>;

  http_listener(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint endpoint,
                http_site& site);
  // Another kind of session on the same accept loop (the Docker-compatible endpoint).
  http_listener(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint endpoint,
                connection_limit& connections, session_starter start_session);
  void start();
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  void do_accept();
  void pause_after(const boost::system::error_code& ec);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  connection_limit& connections_;
  session_starter start_session_;
  std::size_t refused_ = 0;  // connections closed because the limit was reached (strand only)
};

}  // namespace dockmesh::bridge
