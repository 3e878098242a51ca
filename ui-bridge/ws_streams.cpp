// ws_session's streams (ws_session.hpp): follow/unfollow frames and the stream frames that
// carry a stream's pieces to the browser. Runs on the session's strand; pieces arrive on the bus
// thread and are posted here.
#include <boost/asio/post.hpp>

#include "common/protocol/names.hpp"
#include "common/stream_args.hpp"
#include "ui-bridge/message_gateway.hpp"
#include "ui-bridge/ws_session.hpp"

namespace dockmesh::bridge {

namespace net = boost::asio;
using nlohmann::json;

void ws_session::follow(const json& frame) {
  json ref = frame.value("ref", json());
  auto refuse = [&](int status, const char* code, std::string why) {
    auto e = error_json(code, std::move(why));
    e["type"] = "reply";
    e["ref"] = ref;
    e["status"] = status;
    send_json(e);
  };
  if (streams_.size() + streams_opening_ >= max_streams)
    return refuse(503, "unavailable",
                  "this connection follows " + std::to_string(max_streams) +
                      " streams already; unfollow one first");
  ++streams_opening_;
  std::weak_ptr<ws_session> weak = shared_from_this();
  auto self = shared_from_this();
  auto opened = [self, ref](common::result<common::envelope> r) {
    net::post(self->ws_.get_executor(), [self, ref, r = std::move(r)] {
      --self->streams_opening_;
      json out = {{"type", "reply"}, {"ref", ref}};
      if (r) {
        out["status"] = reply_status(*r);
        out["reply"] = reply_json(*r);
        std::string stream = r->body.is_object() ? r->body.value("stream", std::string()) : "";
        if (r->code == 200 && !stream.empty()) {
          if (self->closing_)
            self->s_.gateway.close_stream(stream);
          else
            self->streams_.insert(stream);
        }
      } else {
        out["status"] = static_cast<int>(http_status_for(r.err().code));
        out["reply"] = error_json(common::to_string(r.err().code), r.err().message);
      }
      self->send_json(out);
    });
  };
  auto pieces = [weak, ref](const common::bus_message& m) {
    auto s = weak.lock();
    if (!s) return;
    net::post(s->ws_.get_executor(), [s, ref, m] { s->on_piece(ref, m); });
  };
  s_.gateway.open_stream(*who_, frame.value("message", json()), std::move(opened),
                         std::move(pieces));
}

void ws_session::on_piece(const json& ref, const common::bus_message& m) {
  json body = m.env.body;
  std::string stream = body.value("stream", std::string());
  bool end = m.env.action == common::protocol::names::stream_end;
  if (!streams_.count(stream)) {
    // Unfollowed: the bus actor has forgotten it too. (The opening reply is posted before any
    // piece, so a live stream is always known here.)
    return;
  }
  body["type"] = end ? std::string(common::protocol::names::stream_end) : "stream";
  body["ref"] = ref;
  std::size_t charge = 0;
  if (auto d = body.find("data"); d != body.end() && d->is_string())
    charge = d->get_ref<const std::string&>().size();
  if (end) streams_.erase(stream);
  send(std::make_shared<const std::string>(
           body.dump(-1, ' ', false, json::error_handler_t::replace)),
       end ? std::string() : stream, charge);
}

void ws_session::unfollow(const json& frame) {
  std::string stream =
      frame.value("stream", json()).is_string() ? frame["stream"].get<std::string>() : "";
  if (!streams_.erase(stream))
    return send_json(error_json("not_found", "no stream '" + stream.substr(0, 64) + "' here"));
  s_.gateway.close_stream(stream);
  send_json({{"type", common::protocol::names::stream_end},
             {"stream", stream},
             {"reason", "unfollowed"},
             {"code", 200}});
}

void ws_session::to_stream(const json& frame) {
  namespace names = common::protocol::names;
  std::string stream =
      frame.value("stream", json()).is_string() ? frame["stream"].get<std::string>() : "";
  if (!streams_.count(stream))
    return send_json(error_json("not_found", "no stream '" + stream.substr(0, 64) + "' here"));
  if (frame["type"] == "resize") {
    auto dim = [&](const char* k) {
      auto v = frame.value(k, json());
      return v.is_number_integer() ? v.get<std::int64_t>() : 0;
    };
    std::int64_t cols = dim("cols"), rows = dim("rows");
    if (cols < 1 || cols > 1000 || rows < 1 || rows > 1000)
      return send_json(error_json("invalid_argument", "cols and rows must be 1..1000"));
    return s_.gateway.stream_send(stream, std::string(names::stream_resize),
                                  {{"cols", cols}, {"rows", rows}});
  }
  json body = json::object();
  if (auto d = frame.value("data", json()); d.is_string()) body["data"] = d;
  if (frame.value("eof", false)) body["eof"] = true;
  if (body.contains("data") &&
      body["data"].get_ref<const std::string&>().size() > common::max_stream_piece)
    return send_json(error_json("invalid_argument", "input pieces are at most 16 KiB"));
  s_.gateway.stream_send(stream, std::string(names::stream_input), std::move(body));
}

}  // namespace dockmesh::bridge
