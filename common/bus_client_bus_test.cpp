// bus_client against real ZeroMQ proxies with CURVE on loopback: readiness, de-duplication of the
// copies that two brokers deliver, and request retries that keep the id.
#include <random>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "common/bus_client.hpp"
#include "common/stamping_proxy.hpp"

using namespace dockmesh::common;
using namespace std::chrono_literals;

namespace {

using dockmesh::common::testing::stamping_proxy;

// An XSUB/XPUB proxy like a broker's hub (without the broker's ZAP/ACL), on consecutive ports.
struct test_proxy {
  zmq::context_t& ctx;
  curve_keypair server;
  int port = 0;
  std::thread thread;
  std::string control_endpoint;

  test_proxy(zmq::context_t& c, curve_keypair keys) : ctx(c), server(std::move(keys)) {
    static int n = 0;
    control_endpoint = "inproc://proxy-control-" + std::to_string(n++);
    zmq::socket_t xsub(ctx, zmq::socket_type::xsub), xpub(ctx, zmq::socket_type::xpub);
    for (auto* s : {&xsub, &xpub}) {
      s->set(zmq::sockopt::curve_server, 1);
      s->set(zmq::sockopt::curve_secretkey, server.secret_key);
      s->set(zmq::sockopt::linger, 0);
    }
    std::mt19937 gen{std::random_device{}()};
    for (int tries = 0; tries < 50 && port == 0; ++tries) {
      int p = 20000 + static_cast<int>(gen() % 20000) * 2;
      try {
        xsub.bind("tcp://127.0.0.1:" + std::to_string(p));
      } catch (const zmq::error_t&) {
        continue;
      }
      try {
        xpub.bind("tcp://127.0.0.1:" + std::to_string(p + 1));
      } catch (const zmq::error_t&) {
        xsub.unbind("tcp://127.0.0.1:" + std::to_string(p));
        continue;
      }
      port = p;
    }
    REQUIRE(port != 0);
    // Like the broker: take everything from publishers.
    const char sub_all = 1;
    xsub.send(zmq::buffer(&sub_all, 1));
    zmq::socket_t control(ctx, zmq::socket_type::pair);
    control.bind(control_endpoint);
    thread = std::thread(
        [xs = std::move(xsub), xp = std::move(xpub), ctl = std::move(control)]() mutable {
          stamping_proxy(xs, xp, ctl, "agent:b");  // the responder of these tests
        });
  }
  ~test_proxy() {
    zmq::socket_t stop(ctx, zmq::socket_type::pair);
    stop.connect(control_endpoint);
    stop.send(zmq::str_buffer("TERMINATE"));
    thread.join();
  }
  broker_address address() const { return broker_address{"127.0.0.1", port}; }
};

bus_client_options client_options(const curve_keypair& server, std::vector<broker_address> b,
                                  std::string id) {
  bus_client_options o;
  o.brokers = std::move(b);
  o.keys = generate_keypair();
  o.broker_public_key = server.public_key;
  o.client_id = std::move(id);
  return o;
}

}  // namespace

TEST_CASE("two brokers deliver every message once, and a request retry keeps its id") {
  zmq::context_t ctx;
  auto server = generate_keypair();
  test_proxy p1(ctx, server), p2(ctx, server);
  bus_client a(ctx, client_options(server, {p1.address(), p2.address()}, "a"));
  bus_client b(ctx, client_options(server, {p1.address(), p2.address()}, "b"));
  REQUIRE(a.wait_ready(5s));
  REQUIRE(b.wait_ready(5s));
  b.subscribe("req/host/b/");
  // Until b's subscription has reached a broker, a's messages may be filtered: wait until one
  // arrives, then count exactly.
  envelope warm;
  warm.id = new_message_id();
  warm.action = "ping";
  bool arrived = false;
  for (int i = 0; i < 50 && !arrived; ++i) {
    warm.attempt = i;
    REQUIRE(a.publish("req/host/b/", warm).ok());
    arrived = b.receive(100ms).has_value();
  }
  REQUIRE(arrived);
  while (b.receive(200ms)) {
  }
  std::uint64_t dups_before = b.counters().duplicates;
  for (int i = 0; i < 20; ++i) {
    envelope e;
    e.id = new_message_id();
    e.action = "ping";
    REQUIRE(a.publish("req/host/b/", e).ok());
  }
  int got = 0;
  while (auto m = b.receive(300ms)) ++got;
  CHECK(got == 20);
  CHECK(b.counters().duplicates - dups_before == 20);  // the second broker's copies

  // A responder that ignores the first attempt: the requester's retry (same id, attempt 1) gets
  // through de-duplication and is answered.
  std::thread responder([&] {
    bool ignored_once = false;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = b.receive(50ms);
      if (!m || m->env.action != "echo") continue;
      if (!ignored_once) {
        ignored_once = true;
        continue;
      }
      (void)b.publish(m->env.reply_to, make_reply(m->env, "b", 200, {{"attempt", m->env.attempt}}));
      return;
    }
  });
  envelope req;
  req.action = "echo";
  auto reply = bus_request(a, "req/host/b/", req, 4s, 300ms);
  responder.join();
  REQUIRE(reply.ok());
  CHECK(reply->code == 200);
  CHECK(reply->body["attempt"].get<int>() >= 1);
}

TEST_CASE("a request with nobody listening times out cleanly") {
  zmq::context_t ctx;
  auto server = generate_keypair();
  test_proxy p(ctx, server);
  bus_client a(ctx, client_options(server, {p.address()}, "lonely"));
  REQUIRE(a.wait_ready(5s));
  envelope req;
  req.action = "ping";
  auto r = bus_request(a, "req/host/nobody/", req, 300ms, 100ms);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::timeout);
}

TEST_CASE("a client with the wrong broker key never becomes ready") {
  zmq::context_t ctx;
  auto server = generate_keypair();
  test_proxy p(ctx, server);
  auto other = generate_keypair();
  bus_client a(ctx, client_options(other, {p.address()}, "wrongkey"));
  CHECK_FALSE(a.wait_ready(600ms));
}
