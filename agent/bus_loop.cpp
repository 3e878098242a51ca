#include "agent/bus_loop.hpp"

#include <malloc.h>

#include "agent/action_dispatcher.hpp"
#include "agent/agent_metrics.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/event_follower.hpp"
#include "common/log.hpp"
#include "common/poll_set.hpp"
#include "common/protocol/catalogue.hpp"
#include "common/protocol/names.hpp"
#include "common/stream_args.hpp"
#include "common/topic.hpp"

namespace dockmesh::agent {
namespace {

using common::envelope;
using nlohmann::json;

std::string must(common::result<std::string> r) {
  if (!r) throw std::runtime_error(r.err().message);
  return *r;
}

}  // namespace

bus_loop::bus_loop(zmq::context_t& ctx, const agent_options& options,
                   const std::string& inbox_endpoint, action_pool& pool, common::actor& thread)
    : options_(options),
      pool_(pool),
      thread_(thread),
      bus_(ctx, options.bus),
      inbox_(ctx, zmq::socket_type::pull),
      streams_(ctx, stream_table_options{inbox_endpoint, options.docker, options.self,
                                         options.max_streams, options.stream_lease}),
      evt_topic_(must(common::topic_evt_host(options.self.fqdn))),
      cache_(options.request_cache) {
  inbox_.set(zmq::sockopt::linger, 0);
  inbox_.bind(inbox_endpoint);
  bus_.subscribe(must(common::topic_req_host(options.self.fqdn)));
  bus_.subscribe(common::topic_req_all());
  state_.incarnation = common::now_ms();
}

void bus_loop::announce(std::string_view action, json body) {
  envelope e;
  e.id = common::new_message_id();
  e.action = std::string(action);
  e.from = options_.self.fqdn;
  e.body = std::move(body);
  if (auto r = bus_.publish(common::topic_ann(), e); !r) {
    DM_LOG(warn) << "announce " << action << ": " << r.err().message;
  }
}

void bus_loop::announce_host(std::string_view action) {
  ++state_.sequence;
  announce(action, host_record(options_.self, state_));
}

void bus_loop::announce_inventory() {
  if (!state_.have_inventory) return;
  ++state_.sequence;
  announce(common::protocol::names::inventory, inventory_record(options_.self, state_));
  published_digest_ = inventory_digest(state_.inventory);
}

void bus_loop::schedule_inventory() {
  if (inventory_pending_) {
    inventory_dirty_ = true;  // one more pass once the running one is back
    return;
  }
  inventory_pending_ = pool_.submit(job{job_kind::inventory, {}});
}

void bus_loop::schedule_facts() {
  if (!facts_pending_) facts_pending_ = pool_.submit(job{job_kind::host_facts, {}});
}

void bus_loop::publish_reply(const std::string& topic, const envelope& reply) {
  auto r = bus_.publish(topic, reply);
  if (r) return;
  DM_LOG(warn) << "reply to " << topic << ": " << r.err().message;
  if (r.err().code != common::errc::too_large) return;
  // The requester would otherwise wait for nothing: tell it why instead.
  envelope small = reply;
  small.body = nullptr;
  small.code = 500;
  small.err =
      common::error{common::errc::too_large,
                    "the reply is larger than the bus allows; narrow the request (filters, tail)"};
  (void)bus_.publish(topic, small);
}

void bus_loop::answer(const envelope& request, int code, const std::string& message) {
  envelope reply = common::make_reply(request, options_.self.fqdn, code, nullptr);
  reply.err = common::error{common::from_status(code), message};
  agent_metrics::get().request_refused(request.action, code);
  cache_.complete(request.id, reply);
  publish_reply(request.reply_to, reply);
}

void bus_loop::on_request(common::bus_message& m) {
  envelope& req = m.env;
  if (req.is_reply() || req.action.empty()) return;
  if (on_stream_control(m)) return;
  if (req.action == common::protocol::names::reannounce) {
    announce_host(common::protocol::names::register_host);
    announce_inventory();
    return;
  }
  auto rt = common::parse_topic(req.reply_to);
  if (!rt || rt->kind != common::topic_kind::rep) {
    DM_LOG(debug) << "dropped request " << excerpt(req.action) << " without a usable reply_to";
    return;
  }
  envelope cached;
  auto seen = cache_.begin(req, &cached);
  DM_LOG(debug) << "request " << excerpt(req.action) << " " << excerpt(req.id) << "#" << req.attempt
                << " from " << excerpt(req.from) << ": " << static_cast<int>(seen);
  switch (seen) {
    case request_cache::outcome::running:
      // The first attempt will answer, to whoever asked last: after a scheduler failover the new
      // leader re-sends the same sub-request with its own reply topic, and the old leader may be
      // frozen or dead.
      if (auto it = reply_to_.find(req.id); it != reply_to_.end()) it->second = req.reply_to;
      return;
    case request_cache::outcome::answered: {
      cached.attempt = req.attempt;  // not a duplicate of the first copy for the receiver
      return publish_reply(req.reply_to, cached);
    }
    case request_cache::outcome::foreign:
      agent_metrics::get().request_refused(req.action, 409);
      return publish_reply(req.reply_to, [&] {
        envelope r = common::make_reply(req, options_.self.fqdn, 409, nullptr);
        r.err = common::error{common::errc::conflict, "request id " + excerpt(req.id) +
                                                          " was already used by another requester"};
        return r;
      }());
    case request_cache::outcome::fresh:
      break;
  }
  if (req.epoch > 0 && req.epoch < highest_epoch_) {
    // Fencing: a scheduling broker that lost its leadership (frozen, partitioned) must not act
    // once this agent has heard from a newer leader. Not remembered: the new leader's copy runs.
    cache_.abandon(req.id);
    agent_metrics::get().request_refused(req.action, 409);
    envelope r = common::make_reply(req, options_.self.fqdn, 409, nullptr);
    r.err =
        common::error{common::errc::conflict, "stale scheduler epoch " + std::to_string(req.epoch) +
                                                  " < " + std::to_string(highest_epoch_)};
    return publish_reply(req.reply_to, r);
  }
  if (req.epoch > highest_epoch_) highest_epoch_ = req.epoch;
  if (!is_known_action(req.action))
    return answer(req, 400, "unknown action '" + excerpt(req.action) + "'");
  if (req.deadline > 0 && common::now_ms() > req.deadline) {
    // Nothing was done, so nothing is remembered: a retry of this id with a later deadline (the
    // requester's, after a frozen broker delivered this copy late) is carried out, once.
    cache_.abandon(req.id);
    agent_metrics::get().request_refused(req.action, 504);
    envelope r = common::make_reply(req, options_.self.fqdn, 504, nullptr);
    r.err = common::error{common::errc::timeout,
                          "the request's deadline passed before the agent could start it"};
    return publish_reply(req.reply_to, r);
  }
  std::string id = req.id, reply_to = req.reply_to;
  if (common::protocol::opens_stream(req.action)) {
    if (start_stream(m)) reply_to_[id] = reply_to;
    return;
  }
  if (!pool_.submit(job{job_kind::action, req})) {
    cache_.abandon(id);
    agent_metrics::get().request_refused(req.action, 503);
    envelope r = common::make_reply(req, options_.self.fqdn, 503, nullptr);
    r.err = common::error{common::errc::unavailable, "the agent is busy: too many requests queued"};
    return publish_reply(reply_to, r);
  }
  reply_to_[id] = reply_to;
}

bool bus_loop::on_stream_control(const common::bus_message& m) {
  namespace names = common::protocol::names;
  const envelope& e = m.env;
  auto now = clock::now();
  if (e.action == names::stream_credit) {
    auto a = common::parse_stream_credit_args(e.body);
    if (!a || !streams_.credit(a->stream, a->credit, m.sender, now)) {
      DM_LOG(debug) << "stream-credit for no stream of " << excerpt(m.sender) << " dropped";
    }
    return true;
  }
  if (e.action == names::stream_input) {
    auto a = common::parse_stream_input_args(e.body);
    if (!a || !streams_.input(a->stream, m.sender, a->data, a->eof)) {
      DM_LOG(debug) << "stream-input for no stream of " << excerpt(m.sender) << " dropped";
    }
    return true;
  }
  if (e.action == names::stream_resize) {
    auto a = common::parse_stream_resize_args(e.body);
    if (!a || !streams_.resize(a->stream, m.sender, static_cast<int>(a->cols),
                               static_cast<int>(a->rows))) {
      DM_LOG(debug) << "stream-resize for no stream of " << excerpt(m.sender) << " dropped";
    }
    return true;
  }
  if (e.action == names::stream_cancel) {
    auto a = common::parse_stream_cancel_args(e.body);
    if (!a || !streams_.cancel(a->stream, m.sender)) {
      DM_LOG(debug) << "stream-cancel for no stream of " << excerpt(m.sender) << " dropped";
    }
    return true;
  }
  return false;
}

bool bus_loop::start_stream(const common::bus_message& m) {
  if (streams_.open(m.env, m.sender, clock::now())) return true;
  cache_.abandon(m.env.id);
  envelope r = common::make_reply(m.env, options_.self.fqdn, 503, nullptr);
  r.err = common::error{common::errc::unavailable, "the agent has too many open streams (" +
                                                       std::to_string(streams_.size()) +
                                                       "); close one and retry"};
  publish_reply(m.env.reply_to, r);
  return false;
}

void bus_loop::on_stream_frame(const std::string& payload) {
  auto e = common::decode(payload);
  if (!e || !e->body.is_object() || !e->body.value("stream", nlohmann::json()).is_string()) return;
  const auto* topic = streams_.reply_topic(e->body["stream"].get<std::string>());
  if (!topic) return;
  if (auto r = bus_.publish(*topic, *e); !r) {
    DM_LOG(debug) << "stream: " << r.err().message;
  }
  trim_due_ = true;
}

void bus_loop::on_reply(const std::string& payload) {
  auto reply = common::decode(payload);
  if (!reply) return;
  auto it = reply_to_.find(reply->re);
  if (it == reply_to_.end()) return;
  publish_reply(it->second, *reply);
  cache_.complete_encoded(reply->re, payload);
  trim_due_ = true;
  reply_to_.erase(it);
}

void bus_loop::on_event(const std::string& payload) {
  auto e = common::decode(payload);
  if (!e) return;
  if (auto r = bus_.publish(evt_topic_, *e); !r) {
    DM_LOG(debug) << "event: " << r.err().message;
  }
  if (e->action == common::protocol::names::docker_event && changes_inventory(e->body))
    defer_inventory(clock::now());
}

void bus_loop::defer_inventory(clock::time_point now) {
  if (!inventory_first_) inventory_first_ = now;
  inventory_due_ = std::min(now + inventory_quiet, *inventory_first_ + inventory_max_delay);
}

void bus_loop::on_inventory(const std::string& payload) {
  json j = json::parse(payload, nullptr, false);
  bool after_action = j.is_object() && j.value("after_action", false);
  if (!after_action) inventory_pending_ = false;
  std::uint64_t gen = j.is_object() ? j.value("gen", std::uint64_t{0}) : 0;
  if (gen > inventory_gen_ && j.is_object() && j.contains("patch")) {
    inventory_gen_ = gen;
    if (!apply_state_patch(state_.inventory, j["patch"])) schedule_inventory();  // not seen yet
    if (inventory_digest(state_.inventory) != published_digest_) announce_inventory();
  } else if (gen > inventory_gen_) {  // an older read finishing late is not announced
    inventory_gen_ = gen;
    state_.inventory = inventory_from_json(j.is_object() ? j["containers"] : json());
    state_.have_inventory = true;
    if (inventory_digest(state_.inventory) != published_digest_) announce_inventory();
  }
  if (!after_action && inventory_dirty_) {
    inventory_dirty_ = false;
    schedule_inventory();
  }
}

void bus_loop::read_inbox_all() {
  while (auto m = read_inbox(inbox_)) on_inbox(*m);
}

void bus_loop::on_inbox(const inbox_message& m) {
  switch (m.kind) {
    case inbox_kind::reply:
      on_reply(m.payload);
      break;
    case inbox_kind::event:
      on_event(m.payload);
      break;
    case inbox_kind::inventory:
      on_inventory(m.payload);
      break;
    case inbox_kind::stream_frame:
      on_stream_frame(m.payload);
      break;
    case inbox_kind::stream_closed:
      streams_.closed(m.payload);
      break;
    case inbox_kind::inventory_failed:
      inventory_pending_ = false;
      break;
    case inbox_kind::facts:
      facts_pending_ = false;
      state_.facts = facts_from_json(json::parse(m.payload, nullptr, false));
      have_facts_ = true;
      break;
    case inbox_kind::facts_failed:
      facts_pending_ = false;
      break;
    case inbox_kind::docker_up:
      state_.docker_up = true;
      docker_known_ = true;
      schedule_facts();
      schedule_inventory();
      break;
    case inbox_kind::docker_down:
      state_.docker_up = false;
      docker_known_ = true;
      break;
  }
}

void bus_loop::tick(clock::time_point now) {
  streams_.expire(now);
  if (inventory_due_ && now >= *inventory_due_) {
    inventory_due_.reset();
    inventory_first_.reset();
    schedule_inventory();
  }
  if (now >= next_heartbeat_) {
    bus_.maintain();  // connects again to a broker that was full
    announce_host(common::protocol::names::heartbeat);
    next_heartbeat_ += options_.heartbeat_every;
    if (next_heartbeat_ <= now) next_heartbeat_ = now + options_.heartbeat_every;  // fell behind
    // Hand the pages freed by the work since the last beat back to the kernel: glibc otherwise
    // keeps its heap at the high-water mark of a burst, and an idle agent stayed several MB
    // above its footprint target. At most once a second and only after work, so it costs
    // nothing while idle.
    if (trim_due_) {
      malloc_trim(0);
      trim_due_ = false;
    }
  }
  if (now >= next_refresh_ && state_.docker_up) {
    schedule_facts();
    schedule_inventory();
    next_refresh_ = now + options_.refresh_every;
  }
}

bool bus_loop::wait_for_bus() {
  // In short slices, handling the inbox in between, so that a stop during start-up is not held
  // up by a missing broker (bus_client waits on its own sockets: the stop flag is read between
  // slices, 200 ms at most). False if told to stop.
  auto deadline = clock::now() + options_.ready_timeout;
  while (clock::now() < deadline) {
    if (bus_.wait_ready(std::chrono::milliseconds(200))) {
      // The reply topic served only the readiness probe: an agent sends requests to nobody.
      // Each subscription is trie nodes that the broker's XPUB walks whenever any subscriber
      // disconnects (libzmq 4.3.4): dropping this one halves that walk (bench/README.md).
      bus_.unsubscribe(bus_.reply_topic());
      return true;
    }
    read_inbox_all();
    if (thread_.stop_requested()) return false;
  }
  DM_LOG(warn) << "no broker answered within " << options_.ready_timeout.count()
               << " ms; announcing anyway (heartbeats repeat the record)";
  return true;
}

bool bus_loop::wait_for_facts() {
  // The first register should carry the host's facts (cpus, memory, Docker version): brokers
  // schedule on them. dockerd answers /info in milliseconds; if it is down or slow, register
  // without them after a short bound (heartbeats carry them once known). False if told to stop.
  auto deadline = clock::now() + std::chrono::milliseconds(1500);
  auto waiting = [&] {
    return !docker_known_ || facts_pending_ || (state_.docker_up && !have_facts_);
  };
  while (clock::now() < deadline && waiting()) {
    common::poll_set ps;
    ps.add(inbox_);  // read after every poll: no slot kept
    auto wake = ps.add_fd(thread_.wake_fd());
    ps.poll(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
    if (ps.ready(wake)) thread_.wake().drain();
    read_inbox_all();
    if (thread_.stop_requested()) return false;
  }
  return true;
}

void bus_loop::run() {
  if (!wait_for_bus() || !wait_for_facts()) return;
  announce_host(common::protocol::names::register_host);
  DM_LOG(info) << "registered as " << options_.self.fqdn << " (incarnation " << state_.incarnation
               << ")";
  next_heartbeat_ = clock::now() + options_.heartbeat_every;
  next_refresh_ = clock::now() + options_.refresh_every;
  for (;;) {
    auto wake = inventory_due_ ? std::min(next_heartbeat_, *inventory_due_) : next_heartbeat_;
    common::poll_set ps;  // the bus and the inbox are read after every poll: no slots kept
    ps.add(bus_.sub_socket());
    ps.add(inbox_);
    auto stop = ps.add_fd(thread_.wake_fd());
    ps.poll(std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock::now()));
    if (ps.ready(stop)) thread_.wake().drain();
    read_inbox_all();  // replies that came before the stop are still published
    if (thread_.stop_requested()) {
      announce(common::protocol::names::unregister, {{"fqdn", options_.self.fqdn},
                                                     {"incarnation", state_.incarnation},
                                                     {"sequence", ++state_.sequence}});
      DM_LOG(info) << "unregistered " << options_.self.fqdn;
      return;
    }
    for (int i = 0; i < 1000; ++i) {  // bounded, so the inbox and heartbeats get their turn
      auto m = bus_.try_receive();
      if (!m) break;
      on_request(*m);
    }
    tick(clock::now());
  }
}

}  // namespace dockmesh::agent
