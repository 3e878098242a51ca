// http_session: one HTTP/1.1 connection (Boost.Beast), all of whose handlers run on the
// connection's own strand. It reads one request at a time (bounded header and body), answers the
// static UI from memory, passes /api/ requests to the api_dispatcher, and hands a WebSocket
// upgrade of /api/v1/ws over to a ws_session. Responses may be produced on any thread: they are
// posted back to the strand before being written. Nothing here blocks.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "ui-bridge/api_dispatcher.hpp"
#include "ui-bridge/connection_limit.hpp"
#include "ui-bridge/static_files.hpp"

namespace dockmesh::bridge {

// What every connection needs; owned by main(), outlives all sessions.
struct http_site {
  api_dispatcher& api;
  const static_files& files;
  bridge_services& services;
  connection_limit& connections;
  std::size_t max_body_bytes = 1024 * 1024;
};

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(boost::asio::ip::tcp::socket&& socket, http_site& site, connection_limit::slot slot);
  void run();

 private:
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void handle(http_request req);
  void serve_static(const http_request& req);
  void send(http_response res);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void close();
  void drain(std::size_t discarded);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http_site& site_;
  std::string peer_;
  std::shared_ptr<http_response> writing_;
  connection_limit::slot slot_;
  bool drain_after_write_ = false;
};

}  // namespace dockmesh::bridge
