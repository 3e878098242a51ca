// control_client in fan_out mode against stand-in broker ROUTERs with CURVE on loopback, driven
// from the test's one thread: a broker that never answers, one that answers twice, a malformed
// answer, an answer to another id, a broker that is down, expiry, and the cap on pending queries.
#include "common/control_client.hpp"

#include <doctest/doctest.h>

#include <zmq_addon.hpp>

using namespace dockmesh::common;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

struct request_seen {
  zmq::message_t routing_id;
  envelope env;
};

// A ROUTER bound to a free loopback port, as a broker's control endpoint.
class fake_router {
 public:
  fake_router(zmq::context_t& ctx, const curve_keypair& server)
      : socket_(ctx, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::curve_server, 1);
    socket_.set(zmq::sockopt::curve_secretkey, server.secret_key);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind("tcp://127.0.0.1:*");
    auto endpoint = socket_.get(zmq::sockopt::last_endpoint);
    // broker_address names the XSUB port; the ROUTER is two above it.
    address_.port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1)) - 2;
  }
  const broker_address& address() const { return address_; }

  // The next request, waiting up to `timeout`.
  std::optional<request_seen> next(std::chrono::milliseconds timeout) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
    std::vector<zmq::message_t> parts;
    (void)zmq::recv_multipart(socket_, std::back_inserter(parts));
    REQUIRE(parts.size() == 3);
    auto env = decode(parts[2].to_string_view());
    REQUIRE(env.ok());
    return request_seen{std::move(parts[0]), std::move(*env)};
  }
  void send_raw(const zmq::message_t& to, std::vector<std::string> frames) {
    socket_.send(zmq::buffer(to.data(), to.size()), zmq::send_flags::sndmore);
    for (std::size_t i = 0; i < frames.size(); ++i)
      socket_.send(zmq::buffer(frames[i]),
                   i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  void answer(const request_seen& r, std::string from, int code = 200) {
    send_raw(r.routing_id, {"", encode(make_reply(r.env, std::move(from), code, {{"ok", true}}))});
  }

 private:
  zmq::socket_t socket_;
  broker_address address_;
};

bus_client_options options_for(const curve_keypair& server, std::vector<broker_address> brokers) {
  bus_client_options o;
  o.brokers = std::move(brokers);
  o.keys = generate_keypair();
  o.broker_public_key = server.public_key;
  o.client_id = "control-test";
  return o;
}

// Polls and collects as a bus thread would, until `want` completions or `limit` elapsed.
std::vector<control_completion> drive(control_client& c, std::size_t want,
                                      std::chrono::milliseconds limit) {
  std::vector<control_completion> out;
  auto end = clock_type::now() + limit;
  while (out.size() < want && clock_type::now() < end) {
    dockmesh::common::poll_set ps;
    c.add_to_poll(ps);
    auto wait = end;
    if (auto w = c.next_wakeup()) wait = std::min(wait, *w);
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait - clock_type::now());
    ps.poll(ms);
    for (auto& d : c.collect(clock_type::now())) out.push_back(std::move(d));
  }
  return out;
}

// The next request at `r`, calling collect() meanwhile: a query started before the connection
// was up reaches the broker on a resend.
std::optional<request_seen> await_request(fake_router& r, control_client& c) {
  auto end = clock_type::now() + 5s;
  while (clock_type::now() < end) {
    if (auto seen = r.next(20ms)) return seen;
    CHECK(c.collect(clock_type::now()).empty());
  }
  return std::nullopt;
}

struct started_query {
  std::string id;
  request_seen at_a, at_b;  // the request as each broker received it
};

struct two_brokers {
  zmq::context_t ctx;
  curve_keypair server = generate_keypair();
  fake_router a{ctx, server}, b{ctx, server};
  control_client client{ctx, options_for(server, {a.address(), b.address()}),
                        control_mode::fan_out};

  // Starts a query and waits until both brokers hold it.
  started_query start_at_both(const std::string& action, nlohmann::json body,
                              std::chrono::milliseconds timeout) {
    auto id = client.start(action, std::move(body), timeout);
    REQUIRE(id.ok());
    auto at_a = await_request(a, client);
    auto at_b = await_request(b, client);
    REQUIRE(at_a);
    REQUIRE(at_b);
    return {*id, std::move(*at_a), std::move(*at_b)};
  }
};

// The first broker in the client's list is a port that was free a moment ago and is now closed;
// the second is live.
struct dead_then_live {
  zmq::context_t ctx;
  curve_keypair server = generate_keypair();
  fake_router live{ctx, server};
  control_client client{ctx, options_for(server, {closed_address(), live.address()}),
                        control_mode::fan_out};

 private:
  broker_address closed_address() {
    fake_router gone(ctx, server);
    return gone.address();
  }
};

}  // namespace

TEST_CASE("a query goes to every broker and the first answer wins; the second is dropped") {
  two_brokers m;
  auto q = m.start_at_both("hosts", nlohmann::json::object(), 5s);
  // Broker a stays silent (as if stopped); b answers.
  CHECK(q.at_a.env.id == q.id);
  CHECK(q.at_b.env.id == q.id);
  CHECK(q.at_b.env.action == "hosts");
  m.b.answer(q.at_b, "broker-b");
  auto t0 = clock_type::now();
  auto done = drive(m.client, 1, 5s);
  REQUIRE(done.size() == 1);
  CHECK(clock_type::now() - t0 < 1s);
  CHECK(done[0].id == q.id);
  REQUIRE(done[0].reply.ok());
  CHECK(done[0].reply->from == "broker-b");
  CHECK(m.client.pending() == 0);
  // a answers late, and twice: nothing more completes.
  m.a.answer(q.at_a, "broker-a");
  m.a.answer(q.at_a, "broker-a");
  CHECK(drive(m.client, 1, 300ms).empty());
}

TEST_CASE("a malformed answer or one to another id does not end the query") {
  two_brokers m;
  auto q = m.start_at_both("container", {{"ref", "web"}}, 5s);
  m.a.send_raw(q.at_a.routing_id, {"", "\xc1 not msgpack"});
  m.a.send_raw(q.at_a.routing_id, {"only one frame"});
  envelope other = q.at_a.env;
  other.id = new_message_id();
  m.a.answer(
      request_seen{zmq::message_t(q.at_a.routing_id.data(), q.at_a.routing_id.size()), other},
      "broker-a");
  CHECK(drive(m.client, 1, 300ms).empty());
  CHECK(m.client.pending() == 1);
  m.b.answer(q.at_b, "broker-b", 201);
  auto t0 = clock_type::now();
  auto done = drive(m.client, 1, 5s);
  REQUIRE(done.size() == 1);
  CHECK(clock_type::now() - t0 < 1s);
  REQUIRE(done[0].reply.ok());
  CHECK(done[0].reply->code == 201);  // b's answer ends it; a's garbage counted for nothing
}

TEST_CASE("an unanswered query expires with timeout at its deadline, and is forgotten") {
  two_brokers m;
  auto t0 = clock_type::now();
  auto id = m.client.start("hosts", nlohmann::json::object(), 300ms);
  REQUIRE(id.ok());
  auto at_a = await_request(m.a, m.client);
  REQUIRE(at_a);
  auto done = drive(m.client, 1, 5s);
  REQUIRE(done.size() == 1);
  auto took = clock_type::now() - t0;
  CHECK(took >= 300ms);
  CHECK(took < 1s);
  REQUIRE_FALSE(done[0].reply.ok());
  CHECK(done[0].reply.err().code == errc::timeout);
  CHECK(done[0].reply.err().message == "no broker answered the directory query within 300 ms");
  CHECK(m.client.pending() == 0);
  CHECK_FALSE(m.client.next_wakeup());
  m.a.answer(*at_a, "broker-a");  // too late
  CHECK(drive(m.client, 1, 300ms).empty());
}

TEST_CASE("a broker that is down costs nothing: the live one answers at once") {
  dead_then_live m;
  auto& live = m.live;
  auto& client = m.client;
  for (int i = 0; i < 3; ++i) {
    auto t0 = clock_type::now();
    auto id = client.start("hosts", nlohmann::json::object(), 3s);
    REQUIRE(id.ok());
    auto seen = await_request(live, client);
    REQUIRE(seen);
    live.answer(*seen, "live");
    auto done = drive(client, 1, 3s);
    REQUIRE(done.size() == 1);
    CHECK(done[0].reply.ok());
    CHECK(clock_type::now() - t0 < 1s);
  }
}

TEST_CASE("a write (one_broker) goes to the first broker that takes it and to no other") {
  two_brokers m;
  // A read first, so that both connections are up (ZMQ_IMMEDIATE queues for none that is not).
  auto warm = m.start_at_both("hosts", nlohmann::json::object(), 5s);
  m.a.answer(warm.at_a, "broker-a");
  REQUIRE(drive(m.client, 1, 5s).size() == 1);
  for (int i = 0; i < 3; ++i) {
    auto id = m.client.start("service-scale", {{"replicas", i}}, 5s, control_reach::one_broker);
    REQUIRE(id.ok());
    auto at_a = await_request(m.a, m.client);
    REQUIRE(at_a);
    CHECK(at_a->env.id == *id);
    CHECK_FALSE(m.b.next(300ms).has_value());  // b never sees it, not even on a resend
    m.a.answer(*at_a, "broker-a");
    auto done = drive(m.client, 1, 5s);
    REQUIRE(done.size() == 1);
    CHECK(done[0].reply->from == "broker-a");
  }
  CHECK_FALSE(m.b.next(200ms).has_value());
}

TEST_CASE("a write skips a broker that is down and reaches the next one") {
  dead_then_live m;
  auto& live = m.live;
  auto& client = m.client;
  auto id = client.start("service-delete", {{"service", "s1"}}, 3s, control_reach::one_broker);
  REQUIRE(id.ok());
  auto seen = await_request(live, client);
  REQUIRE(seen);
  live.answer(*seen, "live");
  auto done = drive(client, 1, 3s);
  REQUIRE(done.size() == 1);
  CHECK(done[0].reply.ok());
}

TEST_CASE("pending queries are capped; in_order and fan_out refuse each other's calls") {
  zmq::context_t ctx;
  curve_keypair server = generate_keypair();
  fake_router r(ctx, server);
  control_client fan(ctx, options_for(server, {r.address()}), control_mode::fan_out, 2);
  CHECK(fan.start("hosts", nlohmann::json::object(), 5s).ok());
  CHECK(fan.start("hosts", nlohmann::json::object(), 5s).ok());
  auto third = fan.start("hosts", nlohmann::json::object(), 5s);
  REQUIRE_FALSE(third.ok());
  CHECK(third.err().code == errc::unavailable);
  CHECK(fan.pending() == 2);
  CHECK(fan.call("hosts", nlohmann::json::object(), 10ms).err().code == errc::internal);
  control_client ordered(ctx, options_for(server, {r.address()}));
  CHECK(ordered.start("hosts", nlohmann::json::object(), 10ms).err().code == errc::internal);
}

TEST_CASE("a 2xx from one broker beats a 404 from another; refusals from all end the query") {
  two_brokers m;
  // a (just restarted, say) does not know the container; b does, and answers later.
  auto q = m.start_at_both("container", {{"ref", "web"}}, 5s);
  m.a.answer(q.at_a, "broker-a", 404);
  CHECK(drive(m.client, 1, 200ms).empty());  // held: b may still know it
  m.b.answer(q.at_b, "broker-b", 200);
  auto done = drive(m.client, 1, 2s);
  REQUIRE(done.size() == 1);
  REQUIRE(done[0].reply.ok());
  CHECK(done[0].reply->code == 200);
  CHECK(done[0].reply->from == "broker-b");

  // Both refuse: the first refusal is the answer, as soon as the second arrives.
  auto q2 = m.start_at_both("container", {{"ref", "nope"}}, 5s);
  m.b.answer(q2.at_b, "broker-b", 404);
  CHECK(drive(m.client, 1, 200ms).empty());  // held: a may still know it
  m.a.answer(q2.at_a, "broker-a", 409);
  auto t0 = clock_type::now();
  auto done2 = drive(m.client, 1, 5s);
  REQUIRE(done2.size() == 1);
  CHECK(clock_type::now() - t0 < 1s);
  REQUIRE(done2[0].reply.ok());
  CHECK(done2[0].reply->code == 404);  // b's, the first
  CHECK(done2[0].reply->from == "broker-b");
  CHECK(m.client.pending() == 0);
}
