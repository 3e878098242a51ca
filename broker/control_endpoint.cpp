#include "broker/control_endpoint.hpp"

#include "broker/identity.hpp"
#include "broker/zap_authenticator.hpp"
#include "common/log.hpp"

namespace dockmesh::broker {
namespace {

using common::envelope;

constexpr int batch_size = 64;
constexpr std::int64_t etcd_wait_ms = 3000;

std::string_view view(const zmq::message_t& m) {
  return {m.data<char>(), m.size()};
}

std::string property(const zmq::message_t& m, const char* name) {
  const char* v = zmq_msg_gets(m.handle(), name);
  return v ? v : "";
}

}  // namespace

control_endpoint::control_endpoint(zmq::socket_t router, broker_core& core,
                                   std::size_t max_message_bytes, broker_metrics& metrics)
    : router_(std::move(router)),
      core_(core),
      max_message_bytes_(max_message_bytes),
      metrics_(metrics),
      syncer_(core.db()) {
  core_.db().set_deferred_sync(true);
}

bool control_endpoint::handle_requests() {
  for (int n = 0; n < batch_size; ++n) {
    std::vector<zmq::message_t> frames;
    zmq::message_t m;
    if (!router_.recv(m, zmq::recv_flags::dontwait)) return false;
    frames.push_back(std::move(m));
    while (frames.back().more() && frames.size() < 4) {
      zmq::message_t next;
      if (!router_.recv(next, zmq::recv_flags::none)) break;
      frames.push_back(std::move(next));
    }
    ++requests_;
    if (frames.back().more() || frames.size() < 2) {
      while (frames.back().more() && router_.recv(frames.back(), zmq::recv_flags::none)) {
      }
      ++malformed_;
      DM_LOG(debug) << "dropped a control request that is not [empty][envelope]";
      continue;
    }
    if (handle_one(frames)) return true;
  }
  return false;
}

bool control_endpoint::handle_one(std::vector<zmq::message_t>& frames) {
  auto received = std::chrono::steady_clock::now();
  zmq::message_t body = std::move(frames.back());
  frames.pop_back();
  identity who = parse_user_id(property(body, "User-Id"));
  common::decode_limits limits;
  limits.max_bytes = max_message_bytes_;
  auto req = common::decode(view(body), limits);
  envelope reply;
  bool cut_off = false;
  if (!req || req->action.empty()) {
    ++malformed_;
    reply = common::make_error_reply(
        envelope{}, core_.client_id(),
        {common::errc::malformed, req ? "control request without an action" : req.err().message});
  } else {
    (void)
        core_.take_etcd_ticket();  // writes made before this request (ZAP's notes) are not its own
    auto now = common::now_ms();
    std::string key = property(body, public_key_property);
    auto outcome = core_.on_control(who, key, *req, now);
    reply = std::move(outcome.reply);
    cut_off = outcome.cut_off;
    core_.audit().on_control(audit_caller(who.user_id(), key, property(body, "Peer-Address")), *req,
                             reply.code, now);
  }
  auto etcd_ticket = core_.take_etcd_ticket();
  if (core_.db().take_unsynced() > 0 || etcd_ticket) {
    // A key or token changed: acknowledge it only once it is on disk (and in etcd).
    ++held_total_;
    held_.push_back({syncer_.request(), etcd_ticket, common::now_ms(), std::move(frames),
                     std::move(reply), req ? req->action : std::string(), received});
  } else {
    answer(frames, reply, req ? std::string_view(req->action) : std::string_view(), received);
  }
  return cut_off;
}

void control_endpoint::answer(std::vector<zmq::message_t>& route, const envelope& reply,
                              std::string_view action,
                              std::chrono::steady_clock::time_point received) {
  std::string bytes = common::encode(reply);
  for (auto& f : route) router_.send(f, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  router_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  metrics_.control_answered(
      action, reply.code,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count());
}

void control_endpoint::handle_sync_completions() {
  syncer_.collect();
  while (!held_.empty()) {
    auto& h = held_.front();
    auto in_etcd = h.etcd_ticket ? core_.etcd_settled(h.etcd_ticket) : std::optional<bool>(true);
    if (!in_etcd && common::now_ms() - h.held_ms >= etcd_wait_ms) in_etcd = false;
    if (in_etcd && !*in_etcd && h.ticket <= syncer_.durable()) {
      h.reply.body = nullptr;
      if (auto holder = core_.etcd_conflict(h.etcd_ticket); !holder.empty()) {
        h.reply.code = 409;  // another broker's create of the same name won etcd's transaction
        h.reply.err =
            common::error{common::errc::conflict,
                          "the name is already taken (by " + holder + ", made on another broker)"};
      } else {
        h.reply.code = 503;
        h.reply.err = common::error{common::errc::unavailable,
                                    "applied on this broker, but etcd did not take the change"};
      }
      answer(h.route, h.reply, h.action, h.received);
    } else if (!in_etcd) {
      return;
    } else if (h.ticket <= syncer_.durable()) {
      answer(h.route, h.reply, h.action, h.received);
    } else if (h.ticket <= syncer_.failed()) {
      ++sync_failures_;
      h.reply.code = 503;
      h.reply.body = nullptr;
      h.reply.err = common::error{common::errc::unavailable,
                                  "the change was applied but could not be made durable"};
      answer(h.route, h.reply, h.action, h.received);
    } else {
      return;
    }
    held_.pop_front();
  }
}

nlohmann::json control_endpoint::counters() const {
  return {{"control_requests", requests_},
          {"control_malformed", malformed_},
          {"control_replies_held_for_fsync", held_total_},
          {"control_sync_failures", sync_failures_}};
}

}  // namespace dockmesh::broker
