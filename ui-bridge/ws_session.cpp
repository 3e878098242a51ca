#include "ui-bridge/ws_session.hpp"

#include "ui-bridge/bridge_metrics.hpp"

#include <boost/asio/post.hpp>

#include "common/envelope.hpp"
#include "common/log.hpp"

namespace dockmesh::bridge {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using common::errc;
using common::make_error;

ws_session::ws_session(beast::tcp_stream&& stream, bridge_services& services, std::string peer,
                       connection_limit::slot slot)
    : ws_(std::move(stream)),
      s_(services),
      peer_(std::move(peer)),
      auth_deadline_(ws_.get_executor()),
      slot_(std::move(slot)) {
  bridge_metrics::get().websocket_clients(1);
}

ws_session::~ws_session() {
  bridge_metrics::get().websocket_clients(-1);
  if (subscription_) s_.events.unsubscribe(subscription_);
  for (const auto& stream : streams_) s_.gateway.close_stream(stream);
}

void ws_session::run(http_request req) {
  auto header = to_std(req[http::field::authorization]);
  if (!header.empty()) {
    auto who = s_.auth.authenticate_header(header, common::now_ms());
    if (who) who_ = std::move(*who);
  }
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.read_message_max(1024 * 1024);
  ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
}

void ws_session::on_accept(beast::error_code ec) {
  if (ec) return;
  if (who_) {
    authenticate({});
  } else {
    auth_deadline_.expires_after(std::chrono::seconds(10));
    auth_deadline_.async_wait([self = shared_from_this()](beast::error_code e) {
      if (!e && !self->who_) self->shut(websocket::close_code::policy_error, "authenticate first");
    });
  }
  do_read();
}

void ws_session::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
}

void ws_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) return;  // closed, timed out or too large: the session ends with its last reference
  auto frame = nlohmann::json::parse(beast::buffers_to_string(buffer_.data()), nullptr, false);
  buffer_.consume(buffer_.size());
  if (!frame.is_object())
    send_json(error_json("malformed", "frames are JSON objects with a \"type\""));
  else
    on_frame(frame);
  if (!closing_) do_read();
}

void ws_session::on_frame(const nlohmann::json& frame) {
  std::string type =
      frame.value("type", nlohmann::json()).is_string() ? frame["type"].get<std::string>() : "";
  if (type == "ping") return send_json({{"type", "pong"}});
  if (type == "auth") {
    auto token = frame.value("token", nlohmann::json());
    return authenticate(token.is_string() ? token.get<std::string>() : std::string());
  }
  if (!who_)
    return send_json(error_json("unauthorized", "send {\"type\":\"auth\",\"token\":...} first"));
  if (type == "message") return forward(frame);
  if (type == "follow") return follow(frame);
  if (type == "unfollow") return unfollow(frame);
  if (type == "input" || type == "resize") return to_stream(frame);
  send_json(error_json("invalid_argument", "unknown frame type '" + type.substr(0, 32) + "'"));
}

void ws_session::authenticate(std::string_view token) {
  if (!token.empty() || !who_) {
    auto who = s_.auth.authenticate_token(token, common::now_ms());
    if (!who) return shut(websocket::close_code::policy_error, who.err().message);
    if (who_ && who_->user != who->user)
      return shut(websocket::close_code::policy_error, "a connection belongs to one user");
    who_ = std::move(*who);
  }
  auth_deadline_.cancel();
  if (!subscription_) {
    std::weak_ptr<ws_session> weak = shared_from_this();
    subscription_ = s_.events.subscribe(who_->user_id, who_->is_admin(), [weak](auto text) {
      if (auto self = weak.lock())
        net::post(self->ws_.get_executor(), [self, text] { self->send(text); });
    });
  }
  send_json({{"type", "hello"}, {"user", who_->user}, {"role", to_string(who_->role)}});
}

void ws_session::forward(const nlohmann::json& frame) {
  nlohmann::json ref = frame.value("ref", nlohmann::json());
  if (in_flight_ >= max_in_flight) {
    auto e = error_json("unavailable", "too many messages in flight on this connection");
    e["type"] = "reply";
    e["ref"] = ref;
    e["status"] = 503;
    return send_json(e);
  }
  ++in_flight_;
  auto self = shared_from_this();
  auto done = [self, ref](common::result<common::envelope> r) {
    net::post(self->ws_.get_executor(), [self, ref, r = std::move(r)] {
      --self->in_flight_;
      nlohmann::json out = {{"type", "reply"}, {"ref", ref}};
      if (r) {
        out["status"] = reply_status(*r);
        out["reply"] = reply_json(*r);
      } else {
        out["status"] = static_cast<int>(http_status_for(r.err().code));
        out["reply"] = error_json(common::to_string(r.err().code), r.err().message);
      }
      self->send_json(out);
    });
  };
  s_.gateway.send(*who_, frame.value("message", nlohmann::json()), std::move(done));
}

void ws_session::send_json(const nlohmann::json& j) {
  send(std::make_shared<const std::string>(
      j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

void ws_session::send(std::shared_ptr<const std::string> text, std::string stream,
                      std::size_t charge) {
  if (closing_) return;
  if (queue_.size() >= max_queue)
    return shut(websocket::close_code::try_again_later, "client too slow; events dropped");
  queue_.push_back({std::move(text), std::move(stream), charge});
  if (queue_.size() == 1) do_write();
}

void ws_session::do_write() {
  ws_.text(true);
  ws_.async_write(net::buffer(*queue_.front().text),
                  beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
}

void ws_session::on_write(beast::error_code ec, std::size_t) {
  if (ec) {
    queue_.clear();
    closing_ = true;
    return;
  }
  if (!queue_.front().stream.empty())
    s_.gateway.stream_consumed(queue_.front().stream, queue_.front().charge);
  queue_.pop_front();
  if (!queue_.empty()) do_write();
}

void ws_session::shut(websocket::close_code code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  auth_deadline_.cancel();
  DM_LOG(debug) << "closing WebSocket from " << peer_ << ": " << reason;
  if (!queue_.empty()) {
    // A write is in progress; a close now would interleave with it. Dropping the TCP stream is
    // the only safe way out for a client that cannot keep up.
    beast::get_lowest_layer(ws_).close();
    return;
  }
  ws_.async_close(websocket::close_reason(code, reason.substr(0, 120)),
                  [self = shared_from_this()](beast::error_code) {});
}

}  // namespace dockmesh::bridge
