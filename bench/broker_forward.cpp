// broker_forward: forwarding throughput of 100-byte messages, in one program and one run:
//   proxy-plain   zmq_proxy(XSUB, XPUB), no security
//   proxy-curve   zmq_proxy(XSUB, XPUB), CURVE server sockets
//   broker        dockmesh::broker::hub: CURVE, ZAP, User-Id per message, topic ACLs, the
//                 sender's stamp as a third frame, subscribe ACLs (ZMQ_XPUB_MANUAL), counters
// Publisher -> hub -> subscriber over TCP on 127.0.0.1; the hub has its own ZeroMQ context with
// one I/O thread, the clients another. The publisher is an agent key publishing on its own
// evt/host/<fqdn>/ topic (allowed by the ACL, forwarded by topic without decoding); the
// subscriber is a bridge key (agents may not read events). Modes are
// interleaved over --rounds; the best round of each is reported, with the ratio to the proxy of
// the same security. Loss (PUB/SUB drops at high-water marks) is reported too.
// Usage: bench_broker_forward [--messages N] [--rounds R]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <zmq.hpp>

#include "broker/broker_core.hpp"
#include "broker/hub.hpp"
#include "broker/topic_acl.hpp"
#include "common/actor.hpp"
#include "common/curve_keys.hpp"
#include "common/log.hpp"

namespace {

using namespace dockmesh;
using clock_type = std::chrono::steady_clock;

constexpr const char* fqdn = "bench.mesh.test";
constexpr const char* topic = "evt/host/bench.mesh.test/";

struct keys {
  common::curve_keypair server = common::generate_keypair();
  common::curve_keypair client = common::generate_keypair();
  common::curve_keypair reader = common::generate_keypair();  // the subscriber
};

int free_port() {
  // Port 0 is not available for two related endpoints; probe the kernel for a free one.
  for (int p = 20000 + getpid() % 20000;; p += 7) {
    zmq::context_t c(1);
    zmq::socket_t s(c, zmq::socket_type::pair);
    try {
      s.bind("tcp://127.0.0.1:" + std::to_string(p));
      s.bind("tcp://127.0.0.1:" + std::to_string(p + 1));
      s.bind("tcp://127.0.0.1:" + std::to_string(p + 2));
      return p;
    } catch (const zmq::error_t&) {
    }
  }
}

void curve_client(zmq::socket_t& s, const keys& k, const common::curve_keypair& mine) {
  s.set(zmq::sockopt::curve_serverkey, k.server.public_key);
  s.set(zmq::sockopt::curve_publickey, mine.public_key);
  s.set(zmq::sockopt::curve_secretkey, mine.secret_key);
}

// Reads one whole message (the broker adds a stamp frame); false on timeout.
bool recv_message(zmq::socket_t& s, zmq::message_t& topic, zmq::message_t& body) {
  if (!s.recv(topic) || !topic.more() || !s.recv(body)) return false;
  zmq::message_t rest;
  for (bool more = body.more(); more; more = rest.more())
    if (!s.recv(rest)) return false;
  return true;
}

// A hub running in its own thread and context until stop().
struct running_hub {
  virtual ~running_hub() = default;
};

struct proxy_hub : running_hub {
  zmq::context_t ctx{1};
  std::thread thread;
  proxy_hub(int port, const keys* k) {
    std::atomic<bool> bound{false};
    thread = std::thread([this, port, k, &bound] {
      zmq::socket_t xsub(ctx, zmq::socket_type::xsub), xpub(ctx, zmq::socket_type::xpub);
      for (auto* s : {&xsub, &xpub}) {
        s->set(zmq::sockopt::linger, 0);
        s->set(zmq::sockopt::sndhwm, 100000);
        s->set(zmq::sockopt::rcvhwm, 100000);
        if (k) {
          s->set(zmq::sockopt::curve_server, true);
          s->set(zmq::sockopt::curve_secretkey, k->server.secret_key);
        }
      }
      xsub.bind("tcp://127.0.0.1:" + std::to_string(port));
      xpub.bind("tcp://127.0.0.1:" + std::to_string(port + 1));
      bound = true;
      try {
        zmq::proxy(xsub, xpub);
      } catch (const zmq::error_t&) {
      }  // context shut down
    });
    while (!bound) std::this_thread::yield();
  }
  ~proxy_hub() override {
    ctx.shutdown();
    thread.join();
  }
};

struct broker_hub : running_hub {
  zmq::context_t ctx{1};
  common::actor thread{"bench hub"};
  broker_hub(int port, const keys& k, const std::string& dir) {
    std::string ak = dir + "/authorized_keys";
    std::ofstream(ak) << "agent " << fqdn << " " << k.client.public_key << "\n"
                      << "bridge bench-reader " << k.reader.public_key << "\n";
    broker::broker_settings s;
    s.data_dir = dir + "/data-" + std::to_string(port);
    s.authorized_keys_file = ak;
    s.xsub_endpoint = "tcp://127.0.0.1:" + std::to_string(port);
    s.xpub_endpoint = "tcp://127.0.0.1:" + std::to_string(port + 1);
    s.router_endpoint = "tcp://127.0.0.1:" + std::to_string(port + 2);
    thread.start([this, s, &k] {
      broker::broker_core core(s, k.server.public_key, common::now_ms());
      common::metrics::registry metrics;
      broker::hub hub(ctx, s, k.server, core, metrics);
      thread.ready();
      hub.run(thread);
    });
  }
  ~broker_hub() override { thread.stop(); }
};

struct result {
  double rate = 0;  // messages per second at the subscriber
  std::uint64_t received = 0;
};

result run_once(int port, const keys* k, std::uint64_t n) {
  zmq::context_t ctx(1);
  zmq::socket_t pub(ctx, zmq::socket_type::pub), sub(ctx, zmq::socket_type::sub);
  for (auto* s : {&pub, &sub}) {
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::sndhwm, 0);
    s->set(zmq::sockopt::rcvhwm, 0);
    if (k) curve_client(*s, *k, s == &pub ? k->client : k->reader);
  }
  sub.set(zmq::sockopt::subscribe, topic);
  sub.set(zmq::sockopt::rcvtimeo, 2000);
  pub.connect("tcp://127.0.0.1:" + std::to_string(port));
  sub.connect("tcp://127.0.0.1:" + std::to_string(port + 1));
  std::string body(100, 'x');
  // Until one message makes it through: both sides connected and subscribed.
  sub.set(zmq::sockopt::rcvtimeo, 50);
  for (zmq::message_t m;;) {
    pub.send(zmq::buffer(std::string_view(topic)), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(std::string_view("warmup")));
    zmq::message_t t;
    if (recv_message(sub, t, m) && m.to_string_view() == "warmup") break;
  }
  sub.set(zmq::sockopt::rcvtimeo, 2000);
  std::atomic<std::uint64_t> got{0};
  clock_type::time_point first, last;
  std::thread receiver([&] {
    zmq::message_t t, b;
    while (got < n) {
      if (!recv_message(sub, t, b)) break;
      if (b.size() != 100) continue;  // a late warm-up
      if (got++ == 0) first = clock_type::now();
      last = clock_type::now();
    }
  });
  for (std::uint64_t i = 0; i < n; ++i) {
    pub.send(zmq::buffer(std::string_view(topic)), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(body));
  }
  receiver.join();
  double secs = std::chrono::duration<double>(last - first).count();
  return {secs > 0 ? got / secs : 0, got};
}

// The per-message decision of the hot path alone (User-Id compare with the cached one, topic
// classification, ACL), without sockets.
double acl_ns_per_message() {
  const std::string user_id = std::string("agent:") + fqdn;
  std::string cached = user_id;
  broker::identity who = broker::parse_user_id(user_id);
  std::uint64_t allowed = 0;
  constexpr int n = 5'000'000;
  auto t0 = clock_type::now();
  for (int i = 0; i < n; ++i) {
    if (std::strcmp(user_id.c_str(), cached.c_str()) != 0) who = broker::parse_user_id(user_id);
    broker::topic_view t;
    if (broker::classify_topic(topic, t) &&
        broker::check_publish(who, t) == broker::acl_decision::allow)
      ++allowed;
  }
  double ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() / n;
  return allowed == n ? ns : -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t n = 500000;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--messages") n = std::stoull(argv[i + 1]);
    if (a == "--rounds") rounds = std::stoi(argv[i + 1]);
  }
  common::set_log_level(common::log_level::error);
  keys k;
  auto dir =
      std::filesystem::temp_directory_path() / ("broker-forward-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::map<std::string, result> best;
  for (int r = 0; r < rounds; ++r) {
    for (std::string mode : {"proxy-plain", "proxy-curve", "broker"}) {
      int port = free_port();
      std::unique_ptr<running_hub> hub;
      if (mode == "proxy-plain") hub = std::make_unique<proxy_hub>(port, nullptr);
      if (mode == "proxy-curve") hub = std::make_unique<proxy_hub>(port, &k);
      if (mode == "broker") hub = std::make_unique<broker_hub>(port, k, dir.string());
      auto res = run_once(port, mode == "proxy-plain" ? nullptr : &k, n);
      std::printf("round %d %-12s %10.0f msg/s  received %llu/%llu\n", r + 1, mode.c_str(),
                  res.rate, static_cast<unsigned long long>(res.received),
                  static_cast<unsigned long long>(n));
      if (res.rate > best[mode].rate) best[mode] = res;
    }
  }
  std::printf("\nbest of %d rounds, %llu messages of 100 bytes:\n", rounds,
              static_cast<unsigned long long>(n));
  for (const auto& [mode, res] : best)
    std::printf("  %-12s %10.0f msg/s\n", mode.c_str(), res.rate);
  std::printf("  broker (CURVE + ACL) / proxy-curve = %.2f\n",
              best["broker"].rate / best["proxy-curve"].rate);
  std::printf("  broker (CURVE + ACL) / proxy-plain = %.2f\n",
              best["broker"].rate / best["proxy-plain"].rate);
  std::printf("  hot-path decision alone (User-Id, topic, ACL): %.0f ns per message\n",
              acl_ns_per_message());
  std::filesystem::remove_all(dir);
  return 0;
}
