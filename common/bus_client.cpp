#include "common/bus_client.hpp"

#include <cstring>

#include <algorithm>
#include <charconv>
#include <random>
#include <stdexcept>

#include "common/bus_identity.hpp"
#include "common/log.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::common {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view probe_action = protocol::names::probe;

std::string dedup_key(const envelope& e) {
  return e.id + "#" + std::to_string(e.attempt);
}

}  // namespace

std::string broker_address::xsub_endpoint() const {
  return "tcp://" + host + ":" + std::to_string(port);
}
std::string broker_address::xpub_endpoint() const {
  return "tcp://" + host + ":" + std::to_string(port + 1);
}
std::string broker_address::router_endpoint() const {
  return "tcp://" + host + ":" + std::to_string(port + 2);
}

result<broker_address> parse_broker_address(std::string_view s) {
  broker_address a;
  auto colon = s.rfind(':');
  std::string_view host = colon == std::string_view::npos ? s : s.substr(0, colon);
  if (host.empty() || host.size() > 253 || !valid_segment(host))
    return make_error(errc::invalid_argument,
                      "bad broker address '" + std::string(s) + "': expected HOST[:PORT]");
  a.host = std::string(host);
  if (colon != std::string_view::npos) {
    std::string_view p = s.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), a.port);
    if (ec != std::errc() || ptr != p.data() + p.size() || a.port < 1 || a.port > 65533)
      return make_error(errc::invalid_argument, "bad broker port in '" + std::string(s) + "'");
  }
  return a;
}

bool recent_ids::insert(const std::string& key) {
  if (!set_.insert(key).second) return false;
  order_.push_back(key);
  if (order_.size() > capacity_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

bus_client::bus_client(zmq::context_t& ctx, bus_client_options options)
    : options_(std::move(options)),
      pub_(ctx, zmq::socket_type::pub),
      sub_(ctx, zmq::socket_type::sub),
      seen_(options_.dedup_window) {
  auto rep = topic_rep(options_.client_id);
  if (!rep)
    throw std::runtime_error("bad client id '" + options_.client_id + "': " + rep.err().message);
  reply_topic_ = *rep;
  if (options_.brokers.empty()) throw std::runtime_error("no broker configured");
  apply_curve(pub_);
  apply_curve(sub_);
  // Give a clean stop a moment to flush `unregister`, but never hang on a dead broker.
  pub_.set(zmq::sockopt::linger, 1000);
  sub_.set(zmq::sockopt::linger, 0);
  pub_.set(zmq::sockopt::sndhwm, 100000);
  sub_.set(zmq::sockopt::rcvhwm, 100000);
  // A CURVE handshake that hangs (wrong broker key: the server cannot read our HELLO) is given
  // up after handshake_timeout (3 s) instead of libzmq's 30 s, and reported by the monitor like a
  // refusal.
  auto handshake_ms = static_cast<int>(options_.handshake_timeout.count());
  sub_.set(zmq::sockopt::handshake_ivl, handshake_ms);
  pub_.set(zmq::sockopt::handshake_ivl, handshake_ms);
  auto watch = [&](zmq::socket_t& target, int events) {
    std::string endpoint = "inproc://dm-bus-monitor-" + new_message_id();
    if (zmq_socket_monitor(target.handle(), endpoint.c_str(), events) != 0) return zmq::socket_t();
    zmq::socket_t m(ctx, zmq::socket_type::pair);
    m.set(zmq::sockopt::linger, 0);
    m.connect(endpoint);
    return m;
  };
  monitor_ =
      watch(sub_, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                      ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
  pub_monitor_ = watch(pub_, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
  for (const auto& b : options_.brokers) {
    pub_.connect(b.xsub_endpoint());
    sub_.connect(b.xpub_endpoint());
  }
  subscribe(reply_topic_);
}

void bus_client::apply_curve(zmq::socket_t& s) {
  s.set(zmq::sockopt::curve_serverkey, options_.broker_public_key);
  s.set(zmq::sockopt::curve_publickey, options_.keys.public_key);
  s.set(zmq::sockopt::curve_secretkey, options_.keys.secret_key);
  s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.max_message_bytes));
}

void bus_client::subscribe(std::string_view prefix) {
  sub_.set(zmq::sockopt::subscribe, prefix);
}
void bus_client::unsubscribe(std::string_view prefix) {
  sub_.set(zmq::sockopt::unsubscribe, prefix);
}

result<void> bus_client::publish(std::string_view topic, const envelope& env) {
  std::string body = encode(env);
  if (body.size() > options_.max_message_bytes)
    return make_error(errc::too_large,
                      "message of " + std::to_string(body.size()) + " bytes is over the bus limit");
  try {
    pub_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    pub_.send(zmq::message_t(body.data(), body.size()), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    return make_error(errc::unavailable, std::string("publish failed: ") + e.what());
  }
  ++counters_.published;
  return {};
}

std::optional<bus_message> bus_client::read_one() {
  zmq::message_t topic_frame;
  if (!sub_.recv(topic_frame, zmq::recv_flags::dontwait)) return std::nullopt;
  std::vector<zmq::message_t> rest;
  // The parts of one multipart message arrive together, so dontwait only stops at its end.
  for (bool more = topic_frame.more(); more;) {
    zmq::message_t part;
    if (!sub_.recv(part, zmq::recv_flags::dontwait)) break;
    more = part.more();
    rest.push_back(std::move(part));
  }
  if (rest.size() != 1) {
    ++counters_.malformed;
    DM_LOG(debug) << "dropped a bus message of " << rest.size() + 1 << " frames on '"
                  << topic_frame.to_string().substr(0, 80) << "'";
    return bus_message{};  // empty topic: caller skips it
  }
  decode_limits limits;
  limits.max_bytes = options_.max_message_bytes;
  auto env = decode(rest[0].to_string_view(), limits);
  if (!env) {
    ++counters_.malformed;
    DM_LOG(debug) << "dropped a malformed bus message: " << env.err().message;
    return bus_message{};
  }
  if (!seen_.insert(dedup_key(*env))) {
    ++counters_.duplicates;
    return bus_message{};
  }
  ++counters_.received;
  auto [topic, stamp] = split_stamp(topic_frame.to_string_view());
  return bus_message{std::string(topic), std::move(*env), std::string(stamp)};
}

std::optional<bus_message> bus_client::try_receive() {
  if (!held_.empty()) {
    bus_message m = std::move(held_.front());
    held_.pop_front();
    return m;
  }
  for (;;) {
    auto m = read_one();
    if (!m) return std::nullopt;
    if (m->topic.empty()) continue;  // dropped frame
    if (m->env.action == probe_action && m->topic == reply_topic_) continue;
    return m;
  }
}

std::optional<bus_message> bus_client::receive(milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    if (auto m = try_receive()) return m;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return std::nullopt;
    maintain();
    zmq::pollitem_t item{sub_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::min(left, reconnects_.empty() ? left : milliseconds(100)));
  }
}

void bus_client::note_forged(const bus_message& m) {
  ++counters_.forged;
  DM_LOG(warn) << "dropped a reply to " << m.env.re.substr(0, 40) << " stamped '"
               << m.sender.substr(0, 80) << "' (claims to be from '" << m.env.from.substr(0, 80)
               << "'): not the identity the request was sent to";
}

void bus_client::read_monitor() {
  if (monitor_) read_events(monitor_, false);
  if (pub_monitor_) read_events(pub_monitor_, true);
}

void bus_client::read_events(zmq::socket_t& monitor, bool pub) {
  static thread_local std::mt19937 rng(std::random_device{}());
  for (;;) {
    zmq::message_t event, address;
    if (!monitor.recv(event, zmq::recv_flags::dontwait)) return;
    if (!event.more() || !monitor.recv(address, zmq::recv_flags::none)) continue;
    if (event.size() < 6) continue;
    std::uint16_t id;
    std::uint32_t value;
    std::memcpy(&id, event.data(), 2);
    std::memcpy(&value, static_cast<const char*>(event.data()) + 2, 4);
    std::string endpoint = address.to_string();
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      pauses_.erase(endpoint);
      if (pub) continue;
      refused_.erase(endpoint);
      handshaken_ = true;
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 500) {
      // The broker is full (or failed): connect again later, each pause twice the last.
      auto& pause = pauses_[endpoint];
      pause = pause.count() ? std::min(pause * 2, milliseconds(10000)) : milliseconds(500);
      auto jitter = milliseconds(rng() % (pause.count() / 2 + 1));
      reconnects_.push_back({pub, endpoint, clock::now() + pause / 2 + jitter});
      DM_LOG(warn) << "the broker at " << endpoint << " refused a connection for now (full?): "
                   << "connecting again in about " << pause.count() << " ms";
    } else if (pub) {
      continue;  // the SUB connection to the same broker reports the same refusal
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      refused_[endpoint] = "the broker at " + endpoint + " refused this client's key (status " +
                           std::to_string(value) +
                           "): is it accepted? see `dockmeshctl keys list` on the broker";
    } else {
      refused_[endpoint] = "the CURVE handshake with " + endpoint +
                           " failed: is --broker-key the broker's public key?";
    }
  }
}

void bus_client::maintain() {
  read_monitor();
  auto now = clock::now();
  std::erase_if(reconnects_, [&](const reconnect& r) {
    if (r.at > now) return false;
    // libzmq keeps the refused endpoint without connecting it again: drop it and connect anew.
    auto& socket = r.pub ? pub_ : sub_;
    try {
      zmq_disconnect(socket.handle(), r.endpoint.c_str());  // ENOENT is fine
      socket.connect(r.endpoint);
    } catch (const zmq::error_t& e) {
      DM_LOG(warn) << "connecting to " << r.endpoint << " again failed: " << e.what();
    }
    return true;
  });
}

std::string bus_client::handshake_failure() {
  read_monitor();
  std::string out;
  for (const auto& [endpoint, why] : refused_) out += (out.empty() ? "" : "; ") + why;
  return out;
}

bool bus_client::handshake_succeeded() {
  read_monitor();
  return handshaken_;
}

bool bus_client::wait_ready(milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  milliseconds step(20);
  while (clock::now() < deadline) {
    maintain();
    if (refused_.size() >= options_.brokers.size()) return false;
    envelope probe;
    probe.id = new_message_id();
    probe.action = std::string(probe_action);
    probe.from = options_.client_id;
    (void)publish(reply_topic_, probe);
    auto step_end = std::min(deadline, clock::now() + step);
    while (clock::now() < step_end) {
      zmq::pollitem_t item{sub_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(
          &item, 1,
          std::chrono::duration_cast<milliseconds>(step_end - clock::now()) + milliseconds(1));
      while (auto m = read_one()) {
        if (m->topic.empty()) continue;
        if (m->env.action == probe_action && m->topic == reply_topic_) return true;
        held_.push_back(std::move(*m));
      }
    }
    step = std::min(step * 2, milliseconds(500));
  }
  return false;
}

result<envelope> bus_request(bus_client& bus, std::string_view topic, envelope request,
                             milliseconds timeout, milliseconds retry_every) {
  if (request.id.empty()) request.id = new_message_id();
  if (request.from.empty()) request.from = bus.client_id();
  if (request.reply_to.empty()) request.reply_to = bus.reply_topic();
  if (!request.deadline) request.deadline = now_ms() + timeout.count();
  auto deadline = clock::now() + timeout;
  auto next_send = clock::now();
  while (clock::now() < deadline) {
    if (clock::now() >= next_send) {
      auto r = bus.publish(topic, request);
      if (!r) return r.err();
      ++request.attempt;
      next_send = clock::now() + retry_every;
    }
    auto wait =
        std::chrono::duration_cast<milliseconds>(std::min(deadline, next_send) - clock::now());
    auto m = bus.receive(std::max(wait, milliseconds(0)));
    if (!m || m->env.re != request.id) continue;
    if (reply_stamp_accepted(topic, m->sender, m->env)) return std::move(m->env);
    bus.note_forged(*m);
  }
  return make_error(errc::timeout, "no reply to '" + request.action + "' within " +
                                       std::to_string(timeout.count()) + " ms");
}

std::vector<envelope> bus_collect(bus_client& bus, std::string_view topic, envelope request,
                                  milliseconds timeout, std::size_t expected) {
  if (request.id.empty()) request.id = new_message_id();
  if (request.from.empty()) request.from = bus.client_id();
  if (request.reply_to.empty()) request.reply_to = bus.reply_topic();
  if (!request.deadline) request.deadline = now_ms() + timeout.count();
  std::vector<envelope> replies;
  std::unordered_set<std::string> senders;
  auto deadline = clock::now() + timeout;
  auto next_send = clock::now();
  while (clock::now() < deadline && (expected == 0 || replies.size() < expected)) {
    if (clock::now() >= next_send) {
      (void)bus.publish(topic, request);
      ++request.attempt;
      next_send = clock::now() + milliseconds(1000);
    }
    auto wait =
        std::chrono::duration_cast<milliseconds>(std::min(deadline, next_send) - clock::now());
    auto m = bus.receive(std::max(wait, milliseconds(0)));
    if (!m || m->env.re != request.id) continue;
    if (!reply_stamp_accepted(topic, m->sender, m->env)) {
      bus.note_forged(*m);
      continue;
    }
    if (senders.insert(m->env.from).second) replies.push_back(std::move(m->env));
  }
  return replies;
}

}  // namespace dockmesh::common
