// ws_session: one WebSocket connection on /api/v1/ws, on its own strand. The client
// authenticates with an Authorization header at the upgrade or with a first message
// {"type":"auth","token":...} (browsers cannot set headers on WebSockets); within 10 s or the
// connection is closed. Then it may send {"type":"message","ref":R,"message":{...}} (the same
// messages as POST /api/v1/messages; answered by {"type":"reply","ref":R,"status":N,"reply":{..}})
// and receives {"type":"event",...} for the hosts and its own containers (admins: all) and
// {"type":"job",...} for its jobs. {"type":"follow","ref":R,"message":{"action":"follow-logs",
// "id":...}} opens a stream (docs/streams.md): a reply, then {"type":"stream",...} frames and one
// {"type":"stream-end",...}; {"type":"unfollow","stream":S} ends it. An exec stream also takes
// {"type":"input","stream":S,"data":"..."} and {"type":"resize","stream":S,"cols":C,"rows":R}.
// Credit goes back to the agent only as stream frames are written to the socket, so a slow browser
// slows the agent rather than filling this queue (ws_streams.cpp). Outgoing frames queue on the
// strand; a client that lets the queue grow past its bound is disconnected rather than buffered
// without limit.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "common/bus_client.hpp"
#include "ui-bridge/api_call.hpp"
#include "ui-bridge/connection_limit.hpp"

namespace dockmesh::bridge {

class ws_session : public std::enable_shared_from_this<ws_session> {
 public:
  static constexpr std::size_t max_queue = 2048;
  static constexpr std::size_t max_in_flight = 64;
  static constexpr std::size_t max_streams = 8;

  ws_session(boost::beast::tcp_stream&& stream, bridge_services& services, std::string peer,
             connection_limit::slot slot);
  ~ws_session();
  void run(http_request req);

 private:
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void on_frame(const nlohmann::json& frame);
  void authenticate(std::string_view token);
  void forward(const nlohmann::json& frame);
  void follow(const nlohmann::json& frame);     // ws_streams.cpp
  void unfollow(const nlohmann::json& frame);   // ws_streams.cpp
  void to_stream(const nlohmann::json& frame);  // ws_streams.cpp: exec input and resize
  void on_piece(const nlohmann::json& ref, const common::bus_message& m);  // ws_streams.cpp
  void send_json(const nlohmann::json& j);
  // `stream`/`charge`: a stream frame; its charge is credited back once it is written out.
  void send(std::shared_ptr<const std::string> text, std::string stream = {},
            std::size_t charge = 0);
  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void shut(boost::beast::websocket::close_code code, std::string reason);

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  bridge_services& s_;
  std::string peer_;
  std::optional<principal> who_;
  std::uint64_t subscription_ = 0;
  struct outgoing {
    std::shared_ptr<const std::string> text;
    std::string stream;
    std::size_t charge = 0;
  };
  std::deque<outgoing> queue_;
  std::set<std::string> streams_;  // open streams of this connection
  std::size_t streams_opening_ = 0;
  std::size_t in_flight_ = 0;
  boost::asio::steady_timer auth_deadline_;
  bool closing_ = false;
  connection_limit::slot slot_;
};

}  // namespace dockmesh::bridge
