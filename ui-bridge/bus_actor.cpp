#include "ui-bridge/bus_actor.hpp"

#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "common/bus_identity.hpp"
#include "common/control_client.hpp"
#include "common/log.hpp"
#include "common/poll_set.hpp"
#include "common/protocol/catalogue.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
using clock_type = std::chrono::steady_clock;

namespace {

// Every agent's events: the prefix of all evt/host/<fqdn>/ topics.
constexpr std::string_view all_host_events = "evt/host/";
constexpr std::size_t max_drain = 1000;  // messages per wake-up, so commands are not starved

template <class F, class... A>
void deliver(F& f, A&&... args) {
  try {
    f(std::forward<A>(args)...);
  } catch (const std::exception& e) {
    DM_LOG(error) << "bus completion threw: " << e.what();
  }
}

}  // namespace

class bus_actor::loop {
  struct control_wait {
    reply_handler done;
    bool cacheable;
    std::uint64_t generation;  // hosts_generation_ when the query was sent
  };

 public:
  explicit loop(bus_actor& owner)
      : owner_(owner),
        ctx_(1),
        bus_(ctx_, owner.options_),
        control_(ctx_, owner.options_, common::control_mode::fan_out) {
    bus_.subscribe(common::topic_dir());
    bus_.subscribe(all_host_events);
  }

  void run() {
    if (!bus_.wait_ready(owner_.settings_.ready_timeout)) {
      DM_LOG(warn) << "bus not ready after " << owner_.settings_.ready_timeout.count()
                   << " ms; carrying on (requests retry)";
    }
    while (step()) {
    }
    for (auto& [id, p] : pending_)
      deliver(p.done, make_error(errc::unavailable, "the bridge is shutting down"));
    for (auto& [id, w] : control_waiting_)
      deliver(w.done, make_error(errc::unavailable, "the bridge is shutting down"));
    for (auto& [id, st] : streams_)
      (void)bus_.publish(st.topic, st.reader.cancel_message(bus_.client_id()));
  }

 private:
  bool step() {
    auto [commands, stopping] = take_commands();
    for (auto& c : commands) std::visit([this](auto& cmd) { handle(cmd); }, c);
    for (std::size_t i = 0; i < max_drain; ++i) {
      auto m = bus_.try_receive();
      if (!m) break;
      on_message(*m);
    }
    for (auto& d : control_.collect(clock_type::now())) on_control_done(d);
    check_timers(clock_type::now());
    if (stopping) return false;
    common::poll_set ps;
    ps.add(bus_.sub_socket());  // read in every step whether ready or not: no slot kept
    auto wake = ps.add_fd(owner_.actor_.wake_fd());
    control_.add_to_poll(ps);
    ps.poll(next_wait(clock_type::now()));
    if (ps.ready(wake)) owner_.actor_.wake().drain();
    return true;
  }

  std::pair<std::deque<command>, bool> take_commands() {
    std::lock_guard lock(owner_.mutex_);
    std::deque<command> out;
    out.swap(owner_.queue_);
    return {std::move(out), owner_.actor_.stop_requested()};
  }

  void handle(request_cmd& c) {
    auto now = clock_type::now();
    c.env.id = c.env.id.empty() ? common::new_message_id() : c.env.id;
    if (pending_.count(c.env.id)) {
      // The same idempotency key while its first request still runs: the first one answers.
      return deliver(c.done, make_error(errc::conflict,
                                        "a request with this idempotency key is still running; "
                                        "repeat it once that one is answered"));
    }
    c.env.from = bus_.client_id();
    c.env.reply_to = bus_.reply_topic();
    c.env.deadline = common::now_ms() + c.timeout.count();
    c.env.attempt = 0;
    if (auto ok = bus_.publish(c.topic, c.env); !ok) {
      DM_LOG(warn) << "publish: " << ok.err().message;
    }
    owner_.count([](auto& k) { ++k.requests; });
    std::string id = c.env.id;  // the right side of `=` is evaluated first: keep the id apart
    pending_[id] = pending{std::move(c.topic), std::move(c.env),
                           now + c.timeout,    now + owner_.settings_.retry_every,
                           std::move(c.done),  std::move(c.pieces)};
  }

  void handle(stream_cmd& c) {
    auto it = streams_.find(c.stream);
    if (it == streams_.end()) return;
    if (c.what == stream_cmd::op::consumed) return it->second.reader.consumed(c.bytes);
    if (c.what == stream_cmd::op::send) {
      common::envelope e = it->second.reader.credit_message(0, bus_.client_id());
      e.action = c.action;  // same shape: a fresh id, our client id, the stream's id in the body
      e.body = std::move(c.body);
      e.body["stream"] = c.stream;
      (void)bus_.publish(it->second.topic, e);
      return;
    }
    (void)bus_.publish(it->second.topic, it->second.reader.cancel_message(bus_.client_id()));
    streams_.erase(it);
  }

  // The opener was answered: on 200 the stream is live, and pieces that overtook the reply
  // (through another broker) are delivered first.
  // Returns those pieces: the caller hands them on after the reply, so they are seen in order.
  std::vector<common::bus_message> on_stream_opened(pending& p, const common::envelope& reply) {
    auto early = std::move(early_[p.env.id]);
    early_.erase(p.env.id);
    if (reply.code != 200 || !reply.body.is_object()) return {};
    std::int64_t window = p.env.body.is_object()
                              ? p.env.body.value("credit", common::default_stream_credit)
                              : common::default_stream_credit;
    streams_.try_emplace(p.env.id, live_stream{common::stream_reader(p.env.id, reply.from, window,
                                                                     clock_type::now()),
                                               p.topic, std::move(p.pieces)});
    return early;
  }

  void on_stream_piece(common::bus_message& m) {
    const auto& body = m.env.body;
    auto sid = body.is_object() ? body.find("stream") : body.end();
    if (sid == body.end() || !sid->is_string()) return;
    const std::string& stream = sid->get_ref<const std::string&>();
    auto it = streams_.find(stream);
    if (it == streams_.end()) {
      auto& held = early_[stream];
      if (pending_.count(stream) && held.size() < 256)
        held.push_back(std::move(m));
      else if (!pending_.count(stream))
        early_.erase(stream);
      return;
    }
    auto input = it->second.reader.accept(m);
    if (input == common::stream_input::not_mine || input == common::stream_input::duplicate) return;
    auto pieces = it->second.pieces;  // a copy: the entry may go below
    if (input == common::stream_input::end) streams_.erase(it);
    deliver(pieces, m);
  }

  // The directory marked a host down: its agent can no longer end its streams (nor does a quiet
  // one send anything), so they end here, with reason "host down" (docs/streams.md).
  void end_streams_of(const common::envelope& event) {
    std::string fqdn = event.body.is_object() ? event.body.value("fqdn", std::string()) : "";
    auto topic = common::topic_req_host(fqdn);
    if (fqdn.empty() || !topic) return;
    for (auto it = streams_.begin(); it != streams_.end();) {
      if (it->second.topic != *topic) {
        ++it;
        continue;
      }
      common::bus_message end;
      end.topic = bus_.reply_topic();
      end.env.action = std::string(common::protocol::names::stream_end);
      end.env.from = fqdn;
      end.env.re = it->first;
      end.env.body = {{"stream", it->first},
                      {"seq", 0},
                      {"code", 503},
                      {"reason", "host down"},
                      {"message", "host " + fqdn + " is down: its agent stopped answering"}};
      auto pieces = std::move(it->second.pieces);
      it = streams_.erase(it);
      DM_LOG(info) << "stream " << end.env.re << " ended: host " << fqdn << " is down";
      deliver(pieces, end);
    }
  }

  void handle(control_cmd& c) {
    auto now = clock_type::now();
    bool cacheable = c.action == common::protocol::names::hosts && c.body.empty() &&
                     owner_.settings_.hosts_cache.count();
    if (cacheable && hosts_cache_ && now - hosts_cache_at_ < owner_.settings_.hosts_cache) {
      owner_.count([](auto& k) { ++k.control_cache_hits; });
      deliver(c.done, common::result<common::envelope>(*hosts_cache_));
      return;
    }
    owner_.count([](auto& k) { ++k.control_calls; });
    // A write (project and service calls) goes to one broker, which shares it through etcd;
    // sent to every broker, each would apply it (docs/services.md).
    const auto* spec = common::protocol::catalogue::builtin().find(c.action);
    auto reach = spec && spec->changes_state ? common::control_reach::one_broker
                                             : common::control_reach::every_broker;
    auto id = control_.start(c.action, std::move(c.body), c.timeout, reach);
    if (!id) return deliver(c.done, common::result<common::envelope>(id.err()));
    control_waiting_[*id] = control_wait{std::move(c.done), cacheable, hosts_generation_};
  }

  // The first answer from any broker, or the query's timeout (control_client matched the id).
  void on_control_done(common::control_completion& d) {
    auto it = control_waiting_.find(d.id);
    if (it == control_waiting_.end()) return;
    control_wait w = std::move(it->second);
    control_waiting_.erase(it);
    // Not when a dir/ host event arrived while the query was out: the answer may predate it.
    if (w.cacheable && w.generation == hosts_generation_ && d.reply && d.reply->code == 200) {
      hosts_cache_ = *d.reply;
      hosts_cache_at_ = clock_type::now();
    }
    deliver(w.done, std::move(d.reply));
  }

  void on_message(common::bus_message& m) {
    // Stream pieces first: stream-end also carries `re` (the stream id), yet is no reply.
    if (m.topic == bus_.reply_topic() && (m.env.action == common::protocol::names::stream_data ||
                                          m.env.action == common::protocol::names::stream_end))
      return on_stream_piece(m);
    if (m.env.is_reply()) {
      auto it = pending_.find(m.env.re);
      if (it == pending_.end()) return;  // late, or for a request that already timed out
      // Only the identity we addressed may answer (the broker's stamp, not the reply's `from`).
      if (!common::reply_stamp_accepted(it->second.topic, m.sender, m.env)) {
        owner_.count([](auto& k) { ++k.forged_replies; });
        bus_.note_forged(m);
        return;
      }
      std::vector<common::bus_message> early;
      if (it->second.pieces) early = on_stream_opened(it->second, m.env);
      auto done = std::move(it->second.done);
      pending_.erase(it);
      owner_.count([](auto& k) { ++k.replies; });
      deliver(done, common::result<common::envelope>(std::move(m.env)));
      for (auto& piece : early) on_stream_piece(piece);
      return;
    }
    owner_.count([](auto& k) { ++k.events; });
    // A host changed: the next `hosts` query must see it, not a cached list from before.
    if (m.topic == common::topic_dir() && common::protocol::is_host_directory_event(m.env.action)) {
      hosts_cache_.reset();
      ++hosts_generation_;
      if (m.env.action == common::protocol::names::host_down) end_streams_of(m.env);
    }
    if (owner_.on_event_) deliver(owner_.on_event_, m);
  }

  void check_timers(clock_type::time_point now) {
    if (now >= next_maintain_) {  // connects again to a broker that was full
      bus_.maintain();
      next_maintain_ = now + std::chrono::seconds(1);
    }
    for (auto& [id, st] : streams_)
      if (auto grant = st.reader.due(now))
        (void)bus_.publish(st.topic, st.reader.credit_message(*grant, bus_.client_id()));
    for (auto it = pending_.begin(); it != pending_.end();) {
      pending& p = it->second;
      if (p.deadline <= now) {
        auto done = std::move(p.done);
        auto action = p.env.action;
        it = pending_.erase(it);
        owner_.count([](auto& k) { ++k.timeouts; });
        deliver(done, make_error(errc::timeout, "no reply to " + action + " before the deadline"));
        continue;
      }
      if (p.next_retry <= now) {
        p.env.attempt += 1;  // same id: the agent answers a retry from its cache
        (void)bus_.publish(p.topic, p.env);
        p.next_retry = now + owner_.settings_.retry_every;
      }
      ++it;
    }
  }

  // Until the next retry, deadline or control query expiry; at most 250 ms.
  std::chrono::milliseconds next_wait(clock_type::time_point now) const {
    auto due = now + std::chrono::milliseconds(250);
    for (const auto& [id, p] : pending_) due = std::min({due, p.deadline, p.next_retry});
    if (auto t = control_.next_wakeup()) due = std::min(due, *t);
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::ceil<std::chrono::milliseconds>(due - now));
  }

  struct live_stream {
    common::stream_reader reader;
    std::string topic;  // req/host/<fqdn>/ of the stream's agent: credit and cancel go there
    stream_handler pieces;
  };

  bus_actor& owner_;
  zmq::context_t ctx_;
  common::bus_client bus_;
  clock_type::time_point next_maintain_{};
  common::control_client control_;
  std::map<std::string, pending> pending_;
  std::unordered_map<std::string, control_wait> control_waiting_;  // by control query id
  std::optional<common::envelope> hosts_cache_;
  clock_type::time_point hosts_cache_at_;
  std::uint64_t hosts_generation_ = 0;                    // + 1 on every dir/ host event
  std::unordered_map<std::string, live_stream> streams_;  // by stream id
  std::unordered_map<std::string, std::vector<common::bus_message>> early_;  // opener pending
};

bus_actor::bus_actor(common::bus_client_options options, event_handler on_event,
                     bus_actor_settings settings)
    : options_(std::move(options)), on_event_(std::move(on_event)), settings_(settings) {}

bus_actor::~bus_actor() {
  stop();
}

void bus_actor::start() {
  actor_.start([this] {
    loop l(*this);  // the sockets: a failure here is start()'s exception
    actor_.ready();
    l.run();
  });
}

void bus_actor::stop() {
  // post() and take_commands() read the stop flag with the queue under mutex_: a command that
  // got in before the flag is run (and failed at the loop's end if still pending), one posted
  // after it is refused. The loop's last take_commands() saw the flag, so none is left behind.
  actor_.stop();
}

void bus_actor::post(command c) {
  bool refused = false;
  {
    std::lock_guard lock(mutex_);
    refused = actor_.stop_requested();
    if (!refused) queue_.push_back(std::move(c));
  }
  if (refused) {
    auto fail = [](auto& cmd) {
      if (cmd.done) deliver(cmd.done, make_error(errc::unavailable, "the bridge is shutting down"));
    };
    std::visit(fail, c);
    return;
  }
  actor_.notify();
}

void bus_actor::request(std::string topic, common::envelope env, std::chrono::milliseconds timeout,
                        reply_handler done) {
  post(request_cmd{std::move(topic), std::move(env), timeout, std::move(done)});
}

void bus_actor::control(std::string action, nlohmann::json body, std::chrono::milliseconds timeout,
                        reply_handler done) {
  post(control_cmd{std::move(action), std::move(body), timeout, std::move(done)});
}

void bus_actor::open_stream(std::string topic, common::envelope env,
                            std::chrono::milliseconds timeout, reply_handler opened,
                            stream_handler pieces) {
  post(
      request_cmd{std::move(topic), std::move(env), timeout, std::move(opened), std::move(pieces)});
}

void bus_actor::stream_consumed(std::string stream, std::size_t bytes) {
  post(stream_cmd{stream_cmd::op::consumed, std::move(stream), bytes, {}});
}

void bus_actor::close_stream(std::string stream) {
  post(stream_cmd{stream_cmd::op::close, std::move(stream), 0, {}});
}

void bus_actor::stream_send(std::string stream, std::string action, nlohmann::json body) {
  post(stream_cmd{
      stream_cmd::op::send, std::move(stream), 0, {}, std::move(action), std::move(body)});
}

bus_actor_counters bus_actor::counters() const {
  std::lock_guard lock(counters_mutex_);
  return counters_;
}

}  // namespace dockmesh::bridge
