#include "ui-bridge/docker_api_session.hpp"

#include <array>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "common/envelope.hpp"
#include "common/log.hpp"
#include "ui-bridge/authenticator.hpp"
#include "ui-bridge/docker_api.hpp"
#include "ui-bridge/router.hpp"

namespace dockmesh::bridge {

namespace beast = boost::beast;
namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

void docker_headers(http_response& res) {
  res.set("Api-Version", docker_api_version);
  res.set(http::field::server, "dockmesh");
  res.set("Docker-Experimental", "false");
  res.set("Ostype", "linux");
}

// A client that lets this much streamed output queue up is too slow: it is disconnected.
constexpr std::size_t max_queued_bytes = 8 * 1024 * 1024;

}  // namespace

http_response docker_response(const http_request& req, http::status status,
                              const nlohmann::json& body) {
  http_response res{status, req.version()};
  docker_headers(res);
  res.keep_alive(req.keep_alive());
  if (status != http::status::no_content && status != http::status::not_modified &&
      !body.is_null()) {
    res.set(http::field::content_type, "application/json");
    res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  res.prepare_payload();
  return res;
}

http_response docker_error(const http_request& req, http::status status, std::string_view message) {
  return docker_response(req, status, {{"message", std::string(message)}});
}

docker_api_session::docker_api_session(net::ip::tcp::socket&& socket, docker_site& site,
                                       connection_limit::slot slot)
    : stream_(std::move(socket)), site_(site), slot_(std::move(slot)) {}

void docker_api_session::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void docker_api_session::do_read() {
  parser_.emplace();
  parser_->header_limit(16 * 1024);
  parser_->body_limit(site_.max_body_bytes);
  stream_.expires_after(60s);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&docker_api_session::on_read, shared_from_this()));
}

void docker_api_session::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    http_request req;
    req.version(11);
    req.keep_alive(false);
    return send(
        docker_error(req, http::status::payload_too_large, "request header or body too large"));
  }
  if (ec) return close();
  handle(parser_->release());
}

void docker_api_session::handle(http_request req) {
  std::string_view target = to_std(req.target());
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string method(to_std(req.method_string()));
  auto route = find_docker_route(method, path);
  if (!route) {
    return send(docker_error(req, http::status::not_implemented,
                             method + " " + std::string(strip_api_version(path)) +
                                 " is not implemented by the dockmesh Docker endpoint"));
  }
  auto call = make_call(std::move(req), std::move(*route));
  if (q != std::string_view::npos) call->query = parse_query(target.substr(q + 1));
  if (call->route.route != docker_route::ping) {
    auto who = site_.auth.authenticate_header(to_std(call->req[http::field::authorization]),
                                              common::now_ms());
    if (!who) {
      auto res = docker_error(call->req, http::status::unauthorized,
                              who.err().message +
                                  " (send Authorization: Bearer <token>; the docker "
                                  "CLI takes it from config.json HttpHeaders)");
      res.set(http::field::www_authenticate, "Bearer");
      return send(std::move(res));
    }
    call->who = std::move(*who);
  }
  stream_.expires_never();  // the handlers answer within their own deadlines
  site_.api.handle(std::move(call));
}

docker_call_ptr docker_api_session::make_call(http_request req, docker_route_match route) {
  auto call = std::make_shared<docker_call>();
  call->req = std::move(req);
  call->route = std::move(route);
  call->gone = gone_;
  auto self = shared_from_this();
  auto strand = stream_.get_executor();
  call->respond = [self, strand](http_response res) {
    net::post(strand, [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
  };
  call->begin_stream = [self, strand](std::string type) {
    net::post(strand, [self, type = std::move(type)] { self->stream_begin(type); });
  };
  call->write = [self, strand](std::string bytes) {
    net::post(strand, [self, b = std::move(bytes)]() mutable { self->stream_push(std::move(b)); });
  };
  call->end_stream = [self, strand] {
    net::post(strand, [self] {
      self->stream_ending_ = true;
      if (!self->stream_writing_) self->stream_write();
    });
  };
  call->post = [strand](std::function<void()> f) { net::post(strand, std::move(f)); };
  call->after = [strand](std::chrono::milliseconds d, std::function<void()> f) {
    auto t = std::make_shared<net::steady_timer>(strand, d);
    t->async_wait([t, f = std::move(f)](beast::error_code) { f(); });
  };
  return call;
}

void docker_api_session::send(http_response res) {
  bool keep_alive = res.keep_alive();
  writing_ = std::make_shared<http_response>(std::move(res));
  stream_.expires_after(30s);
  http::async_write(
      stream_, *writing_,
      beast::bind_front_handler(&docker_api_session::on_write, shared_from_this(), keep_alive));
}

void docker_api_session::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  writing_.reset();
  if (ec || !keep_alive) return close();
  do_read();
}

void docker_api_session::stream_begin(const std::string& content_type) {
  streaming_ = true;
  stream_.expires_never();
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
                     "\r\nApi-Version: " + docker_api_version +
                     "\r\nServer: dockmesh\r\nConnection: close\r\n\r\n";
  stream_push(std::move(head));
  watch_close();
}

void docker_api_session::stream_push(std::string bytes) {
  if (gone_->load() || bytes.empty()) return;
  queued_bytes_ += bytes.size();
  out_.push_back(std::move(bytes));
  if (queued_bytes_ > max_queued_bytes) {
    DM_LOG(warn) << "docker endpoint: a client let " << queued_bytes_ << " bytes queue up; closing";
    gone_->store(true);
    return close();
  }
  if (!stream_writing_) stream_write();
}

void docker_api_session::stream_write() {
  if (out_.empty()) {
    stream_writing_ = false;
    if (stream_ending_) {
      gone_->store(true);
      close();
    }
    return;
  }
  stream_writing_ = true;
  auto front = std::make_shared<std::string>(std::move(out_.front()));
  out_.pop_front();
  queued_bytes_ -= front->size();
  net::async_write(stream_.socket(), net::buffer(*front),
                   [self = shared_from_this(), front](beast::error_code ec, std::size_t) {
                     if (ec) {
                       self->gone_->store(true);
                       self->out_.clear();
                       self->queued_bytes_ = 0;
                       self->stream_writing_ = false;
                       return self->close();
                     }
                     self->stream_write();
                   });
}

void docker_api_session::watch_close() {
  // The client sends nothing more on a streamed answer: any read completion means it is gone.
  auto scratch = std::make_shared<std::array<char, 512>>();
  stream_.socket().async_read_some(net::buffer(*scratch), [self = shared_from_this(), scratch](
                                                              beast::error_code ec, std::size_t) {
    if (ec) return self->gone_->store(true);
    self->watch_close();
  });
}

void docker_api_session::close() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (streaming_) stream_.socket().close(ec);
}

}  // namespace dockmesh::bridge
