// bus_actor against real ZeroMQ with CURVE on loopback: a stand-in broker (XSUB/XPUB proxy plus a
// ROUTER that answers control calls) and a stand-in agent (a common::bus_client answering pings).
// Checks reply matching, retries with the same id, deadlines, the host-list cache and its
// invalidation, events, shutdown, and the end of a stream whose host goes down.
#include "ui-bridge/bus_actor.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <zmq_addon.hpp>

#include "common/stamping_proxy.hpp"
#include "common/topic.hpp"

using namespace dockmesh;
using namespace dockmesh::bridge;
using namespace std::chrono_literals;
using common::envelope;

namespace {

using dockmesh::common::testing::stamping_proxy;

// XSUB on port, XPUB on port+1 (proxied), ROUTER on port+2 answering `hosts` with one host (or,
// silent, never answering: a broker whose control service is stuck while its bus still works).
class fake_broker {
 public:
  explicit fake_broker(zmq::context_t& ctx, bool silent = false)
      : ctx_(ctx), keys_(common::generate_keypair()), silent_(silent) {
    zmq::socket_t xsub(ctx, zmq::socket_type::xsub), xpub(ctx, zmq::socket_type::xpub),
        router(ctx, zmq::socket_type::router);
    for (auto* s : {&xsub, &xpub, &router}) {
      s->set(zmq::sockopt::curve_server, 1);
      s->set(zmq::sockopt::curve_secretkey, keys_.secret_key);
      s->set(zmq::sockopt::linger, 0);
    }
    bind_three(xsub, xpub, router);
    const char subscribe_all = 1;
    xsub.send(zmq::buffer(&subscribe_all, 1));
    static std::atomic<int> n{0};
    control_ = "inproc://fake-broker-" + std::to_string(n++);
    zmq::socket_t ctl(ctx, zmq::socket_type::pair);
    ctl.bind(control_);
    proxy_ =
        std::thread([xs = std::move(xsub), xp = std::move(xpub), c = std::move(ctl)]() mutable {
          stamping_proxy(xs, xp, c, "agent:h1");  // the fake agent these tests address
        });
    router_ = std::thread([this, r = std::move(router)]() mutable { serve(r); });
  }
  ~fake_broker() {
    stop_ = true;
    router_.join();
    zmq::socket_t stop(ctx_, zmq::socket_type::pair);
    stop.connect(control_);
    stop.send(zmq::str_buffer("TERMINATE"));
    proxy_.join();
  }
  common::broker_address address() const { return {"127.0.0.1", port_}; }
  const std::string& public_key() const { return keys_.public_key; }
  int control_calls() const { return calls_.load(); }

 private:
  void bind_three(zmq::socket_t& a, zmq::socket_t& b, zmq::socket_t& c) {
    std::mt19937 gen{std::random_device{}()};
    for (int tries = 0; tries < 100; ++tries) {
      int p = 20000 + static_cast<int>(gen() % 13000) * 3;
      std::vector<zmq::socket_t*> bound;
      try {
        for (int i = 0; i < 3; ++i) {
          zmq::socket_t* s = i == 0 ? &a : i == 1 ? &b : &c;
          s->bind("tcp://127.0.0.1:" + std::to_string(p + i));
          bound.push_back(s);
        }
        port_ = p;
        return;
      } catch (const zmq::error_t&) {
        for (std::size_t i = 0; i < bound.size(); ++i)
          bound[i]->unbind("tcp://127.0.0.1:" + std::to_string(p + static_cast<int>(i)));
      }
    }
    FAIL("no free ports");
  }

  void serve(zmq::socket_t& router) {
    while (!stop_) {
      zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 50ms);
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> parts;
      (void)zmq::recv_multipart(router, std::back_inserter(parts));
      if (parts.size() != 3) continue;
      auto req = common::decode(parts[2].to_string_view());
      if (!req) continue;
      ++calls_;
      if (silent_) continue;
      nlohmann::json body = {{"hosts", {{{"fqdn", "h1"}, {"status", "up"}}}}};
      auto rep = common::make_reply(*req, "broker", 200, body);
      std::string bytes = common::encode(rep);
      router.send(parts[0], zmq::send_flags::sndmore);
      router.send(zmq::message_t(), zmq::send_flags::sndmore);
      router.send(zmq::buffer(bytes), zmq::send_flags::none);
    }
  }

  zmq::context_t& ctx_;
  common::curve_keypair keys_;
  bool silent_;
  int port_ = 0;
  std::string control_;
  std::thread proxy_, router_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
};

common::bus_client_options options_for(const fake_broker& b, std::string id) {
  common::bus_client_options o;
  o.brokers = {b.address()};
  o.keys = common::generate_keypair();
  o.broker_public_key = b.public_key();
  o.client_id = std::move(id);
  return o;
}

// Answers `ping` on req/host/h1/; with skip_first, ignores attempt 0 so only a retry is answered.
class fake_agent {
 public:
  fake_agent(zmq::context_t& ctx, const fake_broker& b, bool skip_first) {
    std::promise<void> ready;
    auto started = ready.get_future();
    thread_ = std::thread([&, skip_first] {
      common::bus_client bus(ctx, options_for(b, "h1"));
      bus.subscribe(*common::topic_req_host("h1"));
      REQUIRE(bus.wait_ready(5s));
      ready.set_value();
      while (!stop_) {
        auto m = bus.receive(50ms);
        if (!m || m->env.action != "ping") continue;
        {
          std::lock_guard lock(mutex_);
          seen_ids_.push_back(m->env.id);
        }
        if (skip_first && m->env.attempt == 0) continue;
        (void)bus.publish(m->env.reply_to, common::make_reply(m->env, "h1", 200, {{"pong", true}}));
      }
    });
    started.get();
  }
  ~fake_agent() {
    stop_ = true;
    thread_.join();
  }
  std::vector<std::string> seen_ids() {
    std::lock_guard lock(mutex_);
    return seen_ids_;
  }

 private:
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::string> seen_ids_;
};

envelope ping() {
  envelope e;
  e.action = "ping";
  e.user = "alice";
  e.role = "user";
  return e;
}

using reply_future = std::future<common::result<envelope>>;

std::pair<bus_actor::reply_handler, reply_future> promise_handler() {
  auto p = std::make_shared<std::promise<common::result<envelope>>>();
  auto f = p->get_future();
  return {[p](common::result<envelope> r) { p->set_value(std::move(r)); }, std::move(f)};
}

}  // namespace

TEST_CASE("a request gets its matching reply, on the bus thread") {
  zmq::context_t ctx;
  fake_broker broker(ctx);
  fake_agent agent(ctx, broker, false);
  bus_actor bus(options_for(broker, "bridge-test"), nullptr);
  bus.start();
  std::thread::id where;
  auto p = std::make_shared<std::promise<common::result<envelope>>>();
  auto f = p->get_future();
  bus.request(*common::topic_req_host("h1"), ping(), 5s, [p, &where](common::result<envelope> r) {
    where = std::this_thread::get_id();
    p->set_value(std::move(r));
  });
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  auto r = f.get();
  REQUIRE(r.ok());
  CHECK(r->code == 200);
  CHECK(r->body["pong"] == true);
  CHECK(where != std::this_thread::get_id());
  CHECK(bus.counters().replies == 1);
}

TEST_CASE("an unanswered request is retried with the same id, and answered on the retry") {
  zmq::context_t ctx;
  fake_broker broker(ctx);
  fake_agent agent(ctx, broker, true);
  bus_actor_settings s;
  s.retry_every = 200ms;
  bus_actor bus(options_for(broker, "bridge-retry"), nullptr, s);
  bus.start();
  auto [done, f] = promise_handler();
  bus.request(*common::topic_req_host("h1"), ping(), 5s, done);
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  REQUIRE(f.get().ok());
  auto ids = agent.seen_ids();
  REQUIRE(ids.size() >= 2);
  CHECK(ids[0] == ids[1]);
}

TEST_CASE("a request nobody answers fails with timeout at its deadline") {
  zmq::context_t ctx;
  fake_broker broker(ctx);
  bus_actor bus(options_for(broker, "bridge-timeout"), nullptr);
  bus.start();
  auto [done, f] = promise_handler();
  auto t0 = std::chrono::steady_clock::now();
  bus.request(*common::topic_req_host("nobody"), ping(), 300ms, done);
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  auto r = f.get();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == common::errc::timeout);
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
  CHECK(bus.counters().timeouts == 1);
}

TEST_CASE("host lists are reused briefly, and a dir/ host event drops the cached one") {
  zmq::context_t ctx;
  fake_broker broker(ctx);
  std::atomic<int> events{0};
  bus_actor_settings s;
  s.hosts_cache = 60s;  // long enough that only the invalidation can explain a second call
  bus_actor bus(
      options_for(broker, "bridge-cache"), [&](const common::bus_message&) { ++events; }, s);
  bus.start();
  auto call = [&] {
    auto [done, f] = promise_handler();
    bus.control("hosts", nlohmann::json::object(), 2s, done);
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    auto r = f.get();
    REQUIRE(r.ok());
    CHECK(r->body["hosts"][0]["fqdn"] == "h1");
  };
  call();
  call();
  CHECK(broker.control_calls() == 1);
  CHECK(bus.counters().control_cache_hits == 1);
  // A directory change, published as a broker would.
  common::bus_client pub(ctx, options_for(broker, "test-pub"));
  REQUIRE(pub.wait_ready(5s));
  envelope e;
  e.id = common::new_message_id();
  e.action = "host-down";
  e.body = {{"fqdn", "h1"}};
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (events.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    (void)pub.publish(common::topic_dir(), e);  // until the actor's subscription is surely live
    e.id = common::new_message_id();
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(events.load() > 0);
  call();
  CHECK(broker.control_calls() == 2);
}

TEST_CASE("a pending control query holds nothing up, and times out at its deadline") {
  zmq::context_t ctx;
  fake_broker broker(ctx, true);
  fake_agent agent(ctx, broker, false);
  bus_actor bus(options_for(broker, "bridge-control-pending"), nullptr);
  bus.start();
  auto t0 = std::chrono::steady_clock::now();
  auto [control_done, control_f] = promise_handler();
  bus.control("hosts", nlohmann::json::object(), 1500ms, control_done);
  // Only once the broker holds the query is it surely pending on the bus thread.
  auto deadline = t0 + 5s;
  while (broker.control_calls() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  REQUIRE(broker.control_calls() == 1);
  for (int i = 0; i < 3; ++i) {
    auto [done, f] = promise_handler();
    bus.request(*common::topic_req_host("h1"), ping(), 5s, done);
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    CHECK(f.get().ok());
  }
  CHECK(control_f.wait_for(0s) == std::future_status::timeout);  // answered while it waited
  REQUIRE(control_f.wait_for(5s) == std::future_status::ready);
  auto r = control_f.get();
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == common::errc::timeout);
  CHECK(r.err().message == "no broker answered the directory query within 1500 ms");
  CHECK(took >= 1500ms);
  CHECK(took < 2500ms);  // woken for the expiry, not at some later poll
  CHECK(bus.counters().control_calls == 1);
}

TEST_CASE("stopping fails what is pending and refuses what comes after") {
  zmq::context_t ctx;
  fake_broker broker(ctx, true);  // the control query stays pending
  bus_actor bus(options_for(broker, "bridge-stop"), nullptr);
  bus.start();
  auto [done, f] = promise_handler();
  bus.request(*common::topic_req_host("nobody"), ping(), 60s, done);
  auto [control_done, control_f] = promise_handler();
  bus.control("hosts", {{"status", "up"}}, 60s, control_done);
  bus.stop();
  REQUIRE(f.wait_for(1s) == std::future_status::ready);
  CHECK(f.get().err().code == common::errc::unavailable);
  REQUIRE(control_f.wait_for(1s) == std::future_status::ready);
  CHECK(control_f.get().err().code == common::errc::unavailable);
  auto [late, g] = promise_handler();
  bus.request(*common::topic_req_host("nobody"), ping(), 60s, late);
  REQUIRE(g.wait_for(1s) == std::future_status::ready);
  CHECK(g.get().err().code == common::errc::unavailable);
}

TEST_CASE("a stream whose host the directory marks down ends with reason 'host down'") {
  zmq::context_t ctx;
  fake_broker broker(ctx);
  // A quiet agent: it opens the stream and then sends nothing (as for a container that prints
  // nothing), so only the directory can tell the reader that it died.
  std::atomic<bool> stop{false};
  std::thread agent;
  struct joiner {  // a failed REQUIRE must not leave a joinable thread behind (std::terminate)
    std::atomic<bool>& stop;
    std::thread& t;
    ~joiner() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join_agent{stop, agent};
  agent = std::thread([&] {
    common::bus_client bus(ctx, options_for(broker, "h1"));
    bus.subscribe(*common::topic_req_host("h1"));
    while (!stop) {
      auto m = bus.receive(50ms);
      if (m && m->env.action == "follow-logs")
        (void)bus.publish(m->env.reply_to,
                          common::make_reply(m->env, "h1", 200, {{"stream", m->env.id}}));
    }
  });
  std::atomic<int> events{0};
  bus_actor bus(options_for(broker, "bridge-down"), [&](const common::bus_message&) { ++events; });
  bus.start();
  auto [opened, f] = promise_handler();
  auto ended = std::make_shared<std::promise<common::bus_message>>();
  auto end_f = ended->get_future();
  envelope open = ping();
  open.action = "follow-logs";
  open.body = {{"id", "c1"}};
  bus.open_stream(*common::topic_req_host("h1"), open, 5s, opened,
                  [ended](const common::bus_message& m) {
                    if (m.env.action == "stream-end") ended->set_value(m);
                  });
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  auto reply = f.get();
  REQUIRE(reply.ok());
  REQUIRE(reply->code == 200);
  CHECK(end_f.wait_for(300ms) == std::future_status::timeout);  // quiet: nothing ends it yet
  common::bus_client pub(ctx, options_for(broker, "test-dir"));
  REQUIRE(pub.wait_ready(5s));
  envelope down;
  down.action = "host-down";
  down.body = {{"fqdn", "h1"}};
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (end_f.wait_for(20ms) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
    down.id = common::new_message_id();
    (void)pub.publish(common::topic_dir(), down);
  }
  REQUIRE(end_f.wait_for(0s) == std::future_status::ready);
  auto end = end_f.get();
  CHECK(end.env.body["reason"] == "host down");
  CHECK(end.env.body["code"] == 503);
  CHECK(end.env.body["stream"] == reply->body["stream"]);
}
