#include "common/control_client.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace dockmesh::common {

using std::chrono::milliseconds;
using clock = control_client::clock;

namespace {

constexpr std::size_t max_reads = 1000;  // replies per socket per collect(), so nothing starves
constexpr int fan_out_send_hwm = 64;     // a stopped broker holds at most this many queries

// One [empty][envelope] reply if one is waiting; nullopt if none. Never blocks or throws.
std::optional<result<envelope>> receive_reply(zmq::socket_t& s) {
  std::vector<zmq::message_t> frames;
  try {
    do {
      frames.emplace_back();
      if (!s.recv(frames.back(), zmq::recv_flags::dontwait)) {
        if (frames.size() == 1) return std::nullopt;
        break;
      }
    } while (frames.back().more());
  } catch (const zmq::error_t& e) {
    return make_error(errc::unavailable, std::string("control socket: ") + e.what());
  }
  if (frames.size() != 2 || frames[0].size() != 0)
    return make_error(errc::malformed, "broker answered with an unexpected frame layout");
  return decode(frames[1].to_string_view());
}

}  // namespace

control_client::control_client(zmq::context_t& ctx, const bus_client_options& options,
                               control_mode mode, std::size_t max_pending)
    : options_(options), ctx_(ctx), mode_(mode), max_pending_(max_pending) {
  for (std::size_t i = 0; i < options_.brokers.size(); ++i) {
    sockets_.emplace_back();
    reconnect(i);
  }
}

// in_order: a fresh socket per broker after a timeout, so a late answer to an abandoned call can
// never be read as the answer to the next one. fan_out matches by id and never reconnects.
void control_client::reconnect(std::size_t i) {
  auto s = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  s->set(zmq::sockopt::curve_serverkey, options_.broker_public_key);
  s->set(zmq::sockopt::curve_publickey, options_.keys.public_key);
  s->set(zmq::sockopt::curve_secretkey, options_.keys.secret_key);
  s->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.max_message_bytes));
  s->set(zmq::sockopt::linger, 0);
  if (mode_ == control_mode::fan_out) {
    // No pipe until the handshake is done: a send to a broker that is down fails at once
    // instead of waiting in a queue to be delivered, stale, when it comes back.
    s->set(zmq::sockopt::immediate, 1);
    s->set(zmq::sockopt::sndhwm, fan_out_send_hwm);
  }
  s->connect(options_.brokers[i].router_endpoint());
  sockets_[i] = std::move(s);
}

envelope control_client::make_request(const std::string& action, nlohmann::json body,
                                      milliseconds timeout) const {
  envelope req;
  req.id = new_message_id();
  req.action = action;
  req.from = options_.client_id;
  req.deadline = now_ms() + timeout.count();
  req.body = std::move(body);
  return req;
}

result<envelope> control_client::call(const std::string& action, nlohmann::json body,
                                      milliseconds timeout) {
  if (mode_ != control_mode::in_order)
    return make_error(errc::internal, "call() on a fan_out control client: use start()");
  envelope req = make_request(action, std::move(body), timeout);
  std::string bytes = encode(req);
  auto per_broker = timeout / static_cast<long>(std::max<std::size_t>(sockets_.size(), 1));
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    auto& s = *sockets_[i];
    s.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    s.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    auto deadline = clock::now() + per_broker;
    while (clock::now() < deadline) {
      zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::duration_cast<milliseconds>(deadline - clock::now()));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      auto reply = receive_reply(s);
      if (!reply) continue;
      if (!*reply) return reply->err();
      if ((*reply)->re == req.id) return std::move(**reply);
    }
    reconnect(i);
  }
  return make_error(errc::timeout, "no broker answered '" + action + "' within " +
                                       std::to_string(timeout.count()) + " ms");
}

result<std::string> control_client::start(const std::string& action, nlohmann::json body,
                                          milliseconds timeout, control_reach reach) {
  if (mode_ != control_mode::fan_out)
    return make_error(errc::internal, "start() on an in_order control client: use call()");
  if (pending_.size() >= max_pending_)
    return make_error(errc::unavailable, "too many directory queries in flight (" +
                                             std::to_string(max_pending_) + ")");
  envelope req = make_request(action, std::move(body), timeout);
  auto now = clock::now();
  query q{encode(req),
          timeout,
          now + timeout,
          now,
          std::vector<bool>(sockets_.size(), false),
          std::vector<bool>(sockets_.size(), false),
          std::nullopt,
          reach};
  q.next_resend = offer(q) ? clock::time_point::max() : now + resend_every;
  pending_.emplace(req.id, std::move(q));
  return req.id;
}

bool control_client::offer(query& q) {
  bool all = true;
  bool one = q.reach == control_reach::one_broker;
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    if (one && q.sent[i]) return true;
    if (q.sent[i]) continue;
    auto& s = *sockets_[i];
    try {
      // Once the first frame is taken, ZeroMQ takes the rest of the message too.
      q.sent[i] = s.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait) &&
                  s.send(zmq::buffer(q.bytes), zmq::send_flags::dontwait);
    } catch (const zmq::error_t& e) {
      DM_LOG(warn) << "control query to " << options_.brokers[i].router_endpoint() << ": "
                   << e.what();
    }
    if (one && q.sent[i]) return true;
    all = all && q.sent[i];
  }
  return all;
}

void control_client::add_to_poll(poll_set& ps) const {
  for (const auto& s : sockets_) ps.add(*s);
}

void control_client::read_replies(std::size_t i, std::vector<control_completion>& done) {
  for (std::size_t n = 0; n < max_reads; ++n) {
    auto reply = receive_reply(*sockets_[i]);
    if (!reply) return;
    if (!*reply) {
      // Another broker may still answer well: the query stays pending.
      DM_LOG(warn) << "control reply from " << options_.brokers[i].router_endpoint()
                   << " dropped: " << reply->err().message;
      continue;
    }
    auto it = pending_.find((*reply)->re);
    if (it == pending_.end()) continue;  // a second answer, or one after the deadline
    query& q = it->second;
    bool refusal = (*reply)->code >= 300;
    if (refusal) {
      // A refusal ends the query only once every broker that took it has refused too (or at
      // the deadline); a 2xx from another broker meanwhile wins. The first refusal is kept.
      q.answered[i] = true;
      if (!q.refusal) q.refusal = std::move(**reply);
      if (!refused_by_all(q)) continue;
    }
    done.push_back({it->first, refusal ? std::move(*q.refusal) : std::move(**reply)});
    pending_.erase(it);
  }
}

bool control_client::refused_by_all(const query& q) const {
  for (std::size_t k = 0; k < q.sent.size(); ++k)
    if (q.sent[k] && !q.answered[k]) return false;
  return true;
}

std::vector<control_completion> control_client::collect(clock::time_point now) {
  std::vector<control_completion> done;
  for (std::size_t i = 0; i < sockets_.size(); ++i) read_replies(i, done);
  for (auto it = pending_.begin(); it != pending_.end();) {
    query& q = it->second;
    if (q.deadline <= now) {
      if (q.refusal)
        done.push_back({it->first, std::move(*q.refusal)});
      else
        done.push_back(
            {it->first, make_error(errc::timeout, "no broker answered the directory query within " +
                                                      std::to_string(q.timeout.count()) + " ms")});
      it = pending_.erase(it);
      continue;
    }
    if (q.next_resend <= now) {
      q.next_resend = offer(q) ? clock::time_point::max() : now + resend_every;
    }
    ++it;
  }
  return done;
}

std::optional<clock::time_point> control_client::next_wakeup() const {
  std::optional<clock::time_point> t;
  for (const auto& [id, q] : pending_) {
    auto due = std::min(q.deadline, q.next_resend);
    if (!t || due < *t) t = due;
  }
  return t;
}

}  // namespace dockmesh::common
