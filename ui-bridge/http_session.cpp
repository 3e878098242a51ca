#include "ui-bridge/http_session.hpp"

#include <array>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include "common/log.hpp"
#include "ui-bridge/ws_session.hpp"

namespace dockmesh::bridge {

namespace beast = boost::beast;
namespace net = boost::asio;
using namespace std::chrono_literals;

http_session::http_session(net::ip::tcp::socket&& socket, http_site& site,
                           connection_limit::slot slot)
    : stream_(std::move(socket)), site_(site), slot_(std::move(slot)) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? "unknown" : ep.address().to_string();
}

void http_session::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void http_session::do_read() {
  parser_.emplace();
  parser_->header_limit(16 * 1024);
  parser_->body_limit(site_.max_body_bytes);
  stream_.expires_after(60s);  // idle keep-alive connections go away
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream) return close();
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    http_request req;
    req.version(11);
    req.keep_alive(false);
    drain_after_write_ = true;  // the client is probably still sending: let it, then close
    return send(error_response(req, http::status::payload_too_large, "too_large",
                               "request header or body too large"));
  }
  if (ec) {
    if (ec != beast::error::timeout && ec != net::error::operation_aborted) {
      DM_LOG(debug) << "http read from " << peer_ << ": " << ec.message();
    }
    return close();
  }
  handle(parser_->release());
}

void http_session::handle(http_request req) {
  std::string_view target = to_std(req.target());
  auto q = target.find('?');
  std::string path(target.substr(0, q));
  if (beast::websocket::is_upgrade(req)) {
    if (path != "/api/v1/ws")
      return send(
          error_response(req, http::status::not_found, "not_found", "no WebSocket at " + path));
    stream_.expires_never();
    std::make_shared<ws_session>(std::move(stream_), site_.services, peer_, std::move(slot_))
        ->run(std::move(req));
    return;
  }
  if (path.rfind("/api/", 0) != 0) return serve_static(req);
  stream_.expires_never();  // the API answers within its own deadlines
  auto call = std::make_shared<api_call>();
  call->path = std::move(path);
  if (q != std::string_view::npos) call->query = parse_query(target.substr(q + 1));
  call->req = std::move(req);
  call->peer = peer_;
  auto self = shared_from_this();
  call->respond = [self](http_response res) {
    net::post(self->stream_.get_executor(),
              [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
  };
  call->post = [self](std::function<void()> f) {
    net::post(self->stream_.get_executor(), std::move(f));
  };
  site_.api.handle(std::move(call));
}

void http_session::serve_static(const http_request& req) {
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return send(error_response(req, http::status::method_not_allowed, "method_not_allowed",
                               "the UI is read-only: use GET"));
  std::string_view target = to_std(req.target());
  auto file = site_.files.find(target.substr(0, target.find('?')));
  if (!file) return send(error_response(req, http::status::not_found, "not_found", "no such page"));
  http_response res{http::status::ok, req.version()};
  add_security_headers(res);
  res.set(http::field::content_type, file->mime);
  res.set(http::field::cache_control, "no-cache");
  res.keep_alive(req.keep_alive());
  if (req.method() == http::verb::get) res.body() = file->content;
  res.content_length(file->content.size());
  send(std::move(res));
}

void http_session::send(http_response res) {
  bool keep_alive = res.keep_alive();
  writing_ = std::make_shared<http_response>(std::move(res));
  stream_.expires_after(30s);
  http::async_write(
      stream_, *writing_,
      beast::bind_front_handler(&http_session::on_write, shared_from_this(), keep_alive));
}

void http_session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  writing_.reset();
  if (ec) return close();
  if (drain_after_write_) return drain(0);
  if (!keep_alive) return close();
  do_read();
}

void http_session::drain(std::size_t discarded) {
  // Closing a socket with unread input makes the kernel send a reset, and the client may then
  // never read our 413. So: stop sending, swallow what is still coming (bounded in bytes and
  // time), and close on EOF.
  constexpr std::size_t max_discard = 16 * 1024 * 1024;
  if (discarded == 0) {
    close();
    stream_.expires_after(5s);
  }
  if (discarded > max_discard) return;
  auto scratch = std::make_shared<std::array<char, 16384>>();
  stream_.async_read_some(net::buffer(*scratch), [self = shared_from_this(), scratch, discarded](
                                                     beast::error_code ec, std::size_t n) {
    if (!ec) self->drain(discarded + n + 1);
  });
}

void http_session::close() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace dockmesh::bridge
