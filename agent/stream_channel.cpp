#include "agent/stream_channel.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "agent/action_context.hpp"
#include "agent/docker_grammar.hpp"
#include "common/protocol/names.hpp"
#include "common/stream_args.hpp"

namespace dockmesh::agent {

namespace names = common::protocol::names;
using nlohmann::json;

stream_channel::stream_channel(const common::envelope& request, std::string fqdn,
                               std::shared_ptr<stream_gate> gate, inbox_sender& inbox)
    : request_(request), fqdn_(std::move(fqdn)), gate_(std::move(gate)), inbox_(inbox) {}

bool stream_channel::deliver(inbox_kind kind, const std::string& payload) {
  // The inbox drops rather than blocks when the bus thread is flooded; a stream must not lose a
  // piece, so it waits here (its own thread) a little and tries again.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!inbox_.send(kind, payload)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

bool stream_channel::open(json body) {
  body["stream"] = request_.id;
  body["host"] = fqdn_;
  auto reply = common::make_reply(request_, fqdn_, 200, std::move(body));
  open_ = deliver(inbox_kind::reply, common::encode(reply));
  return open_;
}

bool stream_channel::send(json body, std::size_t cost) {
  auto charge = static_cast<std::int64_t>(std::max(cost, common::min_stream_charge));
  if (!gate_->acquire(charge)) return false;
  common::envelope e;
  e.id = common::new_message_id();
  e.action = names::stream_data;
  e.from = fqdn_;
  body["stream"] = request_.id;
  body["seq"] = ++seq_;
  e.body = std::move(body);
  if (deliver(inbox_kind::stream_frame, common::encode(e))) return true;
  gate_->cancel("the agent's bus thread is not taking messages");
  return false;
}

bool stream_channel::send_text(std::string_view channel, std::string_view text) {
  while (!text.empty()) {
    std::size_t n = std::min(text.size(), common::max_stream_piece);
    if (n < text.size()) {
      auto nl = text.substr(0, n).rfind('\n');
      if (nl != std::string_view::npos && nl >= n / 2) n = nl + 1;
    }
    json piece = {{"channel", channel}, {"data", to_valid_utf8(text.substr(0, n))}};
    if (!send(std::move(piece), n)) return false;
    text.remove_prefix(n);
  }
  return true;
}

void stream_channel::finish(const action_reply& result) {
  if (!open_) {
    auto reply = common::make_reply(request_, fqdn_, result.code, result.body);
    reply.err = result.err;
    if (result.code < 400) {  // a handler that returned without opening: still an answer
      reply.code = 500;
      reply.err = common::error{common::errc::internal, "the stream ended before it opened"};
    }
    deliver(inbox_kind::reply, common::encode(reply));
  } else {
    common::envelope e;
    e.id = common::new_message_id();
    e.action = names::stream_end;
    e.from = fqdn_;
    // The stream's final answer to its opening request: the broker's audit log closes an
    // audited session (exec) on it.
    e.re = request_.id;
    e.code = result.code;
    std::string reason = gate_->cancelled() ? gate_->reason() : "eof";
    if (result.code >= 400) reason = "error";
    e.body = result.body.is_object() ? result.body : json::object();
    e.body.update(
        json{{"stream", request_.id}, {"seq", ++seq_}, {"code", result.code}, {"reason", reason}});
    if (result.err) e.body["message"] = result.err->message;
    deliver(inbox_kind::stream_frame, common::encode(e));
  }
  deliver(inbox_kind::stream_closed, request_.id);
}

}  // namespace dockmesh::agent
