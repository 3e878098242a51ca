// docker_api_session: one connection to the Docker-compatible endpoint (--docker-api-listen), on
// its own strand like http_session. It reads one request at a time, answers 501 naming anything
// the endpoint does not implement, authenticates the caller from `Authorization: Bearer` (the
// bridge's sessions and API tokens; only `/_ping` is open), and hands the call to docker_api.
// A streamed answer is written raw (header, then bytes as they come) and ends the connection;
// while it streams the session also reads, to learn when the client goes away. Never blocks.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "ui-bridge/connection_limit.hpp"
#include "ui-bridge/docker_call.hpp"

namespace dockmesh::bridge {

class docker_api;
class authenticator;

struct docker_site {
  docker_api& api;
  authenticator& auth;
  connection_limit& connections;
  std::size_t max_body_bytes = 1024 * 1024;
};

class docker_api_session : public std::enable_shared_from_this<docker_api_session> {
 public:
  docker_api_session(boost::asio::ip::tcp::socket&& socket, docker_site& site,
                     connection_limit::slot slot);
  void run();

 private:
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void handle(http_request req);
  docker_call_ptr make_call(http_request req, docker_route_match route);
  void send(http_response res);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void stream_begin(const std::string& content_type);
  void stream_push(std::string bytes);
  void stream_write();
  void watch_close();
  void close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  docker_site& site_;
  connection_limit::slot slot_;
  std::shared_ptr<http_response> writing_;
  std::shared_ptr<std::atomic<bool>> gone_ = std::make_shared<std::atomic<bool>>(false);
  // Streaming state (strand only).
  bool streaming_ = false;
  bool stream_writing_ = false;
  bool stream_ending_ = false;
  std::deque<std::string> out_;
  std::size_t queued_bytes_ = 0;
};

}  // namespace dockmesh::bridge
