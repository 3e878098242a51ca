// etcd_client and etcd_link against a real single-member etcd (Debian's etcd-server, started on
// free loopback ports in a temporary directory and killed at the end).
#include "common/storage/etcd_client.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "broker/etcd_link.hpp"
#include "broker/key_store.hpp"
#include "broker/snapshot_fetch.hpp"
#include "broker/test_support.hpp"
#include "common/curve_keys.hpp"

namespace dockmesh::broker {
namespace {

using namespace std::chrono_literals;

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// One etcd member for the length of a test case.
struct etcd_member {
  testing::temp_dir dir;
  std::string url;
  pid_t pid = -1;

  etcd_member() {
    int client = free_port(), peer = free_port();
    url = "http://127.0.0.1:" + std::to_string(client);
    std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
    std::vector<std::string> args{"etcd",
                                  "--data-dir",
                                  dir.str() + "/data",
                                  "--name",
                                  "t",
                                  "--listen-client-urls",
                                  url,
                                  "--advertise-client-urls",
                                  url,
                                  "--listen-peer-urls",
                                  peer_url,
                                  "--initial-advertise-peer-urls",
                                  peer_url,
                                  "--initial-cluster",
                                  "t=" + peer_url,
                                  "--heartbeat-interval",
                                  "50",
                                  "--election-timeout",
                                  "500"};
    pid = fork();
    if (pid == 0) {
      int log = open((dir.str() + "/etcd.log").c_str(), O_WRONLY | O_CREAT, 0600);
      dup2(log, 1);
      dup2(log, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("etcd", argv.data());
      _exit(127);
    }
    etcd_client probe({url}, 200ms);
    auto until = std::chrono::steady_clock::now() + 15s;
    while (!probe.range("x") && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(50ms);
    REQUIRE_MESSAGE(probe.range("x").ok(), "etcd did not start (is etcd-server installed?)");
  }
  ~etcd_member() {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

}  // namespace

TEST_CASE("base64 and prefix helpers") {
  CHECK(base64_encode("leader") == "bGVhZGVy");
  CHECK(*base64_decode("bGVhZGVy") == "leader");
  CHECK_FALSE(base64_decode("not base64!").ok());
  CHECK(prefix_end("dockmesh/keys/") == "dockmesh/keys0");
  CHECK(parse_etcd_endpoints("http://a:1,http://b:2/").size() == 2);
  CHECK_THROWS(parse_etcd_endpoints("a:1"));
}

TEST_CASE("etcd_client against a real etcd, with a dead endpoint first in the list") {
  etcd_member etcd;
  // Port 9 (discard) is closed on loopback: every call fails over to the live member.
  etcd_client c({"http://127.0.0.1:9", etcd.url}, 300ms);
  REQUIRE(c.put("p/a", "1").ok());
  CHECK(c.endpoint() == etcd.url);
  REQUIRE(c.put("p/b", "2").ok());
  auto r = c.range("p/", true);
  REQUIRE(r.ok());
  CHECK(r->kvs.size() == 2);
  CHECK(r->kvs[1].value == "2");

  auto first = c.create_if_absent("once", "A");
  REQUIRE(first.ok());
  CHECK(first->succeeded);
  auto second = c.create_if_absent("once", "B");
  REQUIRE(second.ok());
  CHECK_FALSE(second->succeeded);
  REQUIRE(second->kvs.size() == 1);
  CHECK(second->kvs[0].value == "A");
  CHECK(second->kvs[0].create_revision == first->revision);

  CHECK(*c.delete_if_present("once"));
  CHECK_FALSE(*c.delete_if_present("once"));

  REQUIRE(c.put("tokens/h", "{}").ok());
  CHECK(*c.spend_and_put("tokens/h", "keys/k", "accepted"));
  CHECK_FALSE(*c.spend_and_put("tokens/h", "keys/k2", "accepted"));  // spent once
  CHECK(c.range("keys/k")->kvs.size() == 1);
  CHECK(c.range("keys/k2")->kvs.empty());

  // A name claimed with its record: the first holder writes both, a second holder of the same
  // name writes nothing and learns who holds it, the holder writes again, a deletion frees it.
  CHECK(*c.put_claimed("n/web", "s1", "s/s1", "one") == "");
  CHECK(*c.put_claimed("n/web", "s2", "s/s2", "two") == "s1");
  CHECK(c.range("s/s2")->kvs.empty());
  CHECK(*c.put_claimed("n/web", "s1", "s/s1", "one again") == "");
  CHECK(c.range("s/s1")->kvs[0].value == "one again");
  REQUIRE(c.erase_claimed("n/web", "s2", "s/s2").ok());  // not the holder: the name stays
  CHECK(c.range("n/web")->kvs[0].value == "s1");
  REQUIRE(c.erase_claimed("n/web", "s1", "s/s1").ok());
  CHECK(c.range("n/web")->kvs.empty());
  CHECK(c.range("s/s1")->kvs.empty());
  CHECK(*c.put_claimed("n/web", "s2", "s/s2", "two") == "");

  auto lease = c.lease_grant(2);
  REQUIRE(lease.ok());
  REQUIRE(c.put("leased", "x", lease->id).ok());
  CHECK(c.lease_keepalive(lease->id)->ttl_seconds > 0);
  REQUIRE(c.lease_revoke(lease->id).ok());
  CHECK(c.range("leased")->kvs.empty());
  CHECK(c.lease_keepalive(lease->id)->ttl_seconds == 0);

  etcd_client dead({"http://127.0.0.1:9"}, 200ms);
  CHECK(dead.range("x").err().code == common::errc::unavailable);
}

TEST_CASE("etcd_client watch sees puts and deletes, and stops when asked") {
  etcd_member etcd;
  etcd_client c({etcd.url});
  auto start = c.put("w/0", "0");
  REQUIRE(start.ok());
  std::atomic<bool> stop{false};
  std::vector<etcd_event> seen;
  std::thread writer([&] {
    etcd_client w({etcd.url});
    (void)w.put("w/1", "one");
    (void)w.erase("w/0");
    (void)w.put("other", "not watched");
  });
  auto began = std::chrono::steady_clock::now();
  auto r = c.watch(
      "w/", *start,
      [&](const std::vector<etcd_event>& ev, std::int64_t) {
        seen.insert(seen.end(), ev.begin(), ev.end());
        if (seen.size() >= 3) stop = true;
      },
      stop, 5s);
  writer.join();
  CHECK(r.ok());
  CHECK(std::chrono::steady_clock::now() - began < 4s);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].kv.key == "w/0");
  CHECK(seen[1].kv.value == "one");
  CHECK(seen[2].deleted);
}

TEST_CASE("etcd_link: one of two links leads, the other takes over when it stops") {
  etcd_member etcd;
  zmq::context_t ctx;
  auto leader_of = [](etcd_link& l, std::chrono::milliseconds within) {
    nlohmann::json last = nlohmann::json::object();
    auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      while (auto ev = l.receive())
        if (ev->value("ev", "") == "leader" && ev->value("etcd_ok", false)) last = *ev;
      if (last.value("leader", false)) break;
      std::this_thread::sleep_for(20ms);
    }
    return last;
  };
  auto a =
      std::make_unique<etcd_link>(ctx, etcd_link_settings{{etcd.url}, "t/", "broker-1", 1, 100});
  auto la = leader_of(*a, 3s);
  REQUIRE(la.value("leader", false));
  etcd_link b(ctx, etcd_link_settings{{etcd.url}, "t/", "broker-2", 1, 100});
  auto lb = leader_of(b, 500ms);
  CHECK_FALSE(lb.value("leader", false));
  CHECK(lb.value("holder", "") == "broker-1");
  a.reset();  // revokes its lease
  lb = leader_of(b, 3s);
  REQUIRE(lb.value("leader", false));
  CHECK(lb.value("epoch", 0) > la.value("epoch", 0));

  b.send({{"op", "place"},
          {"id", "r1"},
          {"record", {{"hosts", nlohmann::json::array({nlohmann::json::array({"h1", 1})})}}}});
  b.send({{"op", "place"},
          {"id", "r1"},
          {"record", {{"hosts", nlohmann::json::array({nlohmann::json::array({"h2", 1})})}}}});
  std::vector<nlohmann::json> placed;
  auto until = std::chrono::steady_clock::now() + 3s;
  while (placed.size() < 2 && std::chrono::steady_clock::now() < until) {
    while (auto ev = b.receive())
      if (ev->value("ev", "") == "placed") placed.push_back(*ev);
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(placed.size() == 2);
  CHECK(placed[0].value("created", false));
  CHECK_FALSE(placed[1].value("created", true));
  CHECK(placed[1]["record"]["hosts"][0][0] == "h1");  // the first placement wins
}

// One broker's key side: a key store mirrored through its own etcd_link, as broker_core wires it.
struct key_side {
  testing::temp_dir dir;
  state_db db{dir.str()};
  key_store keys{db};
  etcd_link link;
  key_side(zmq::context_t& ctx, const std::string& url, const std::string& holder)
      : link(ctx, etcd_link_settings{{url}, "t/", holder, 1, 100}) {}
  void mirror() {
    keys.set_mirror(
        [this](const key_entry& e, key_write how) { link.send(etcd_key_command(e, how)); });
  }
  void pump() {
    while (auto ev = link.receive()) {
      std::string kind = ev->value("ev", "");
      if (kind == "key")
        (void)keys.apply_remote((*ev)["record"], ev->value("mod_revision", std::int64_t{0}));
      if (kind == "keys-snapshot")
        for (const auto& r : (*ev)["keys"])
          (void)keys.apply_remote(r["record"], r.value("mod_revision", std::int64_t{0}));
      if (kind == "ack" && !ev->value("ok", false)) keys.etcd_missed(ev->value("public_key", ""));
    }
  }
};

std::string state_in_etcd(etcd_client& c, const std::string& key) {
  auto r = c.range("t/keys/" + key);
  if (!r || r->kvs.empty()) return "none";
  return nlohmann::json::parse(r->kvs.front().value).value("state", "?");
}

TEST_CASE("keys in etcd: a broker's pending note never wins over an accepted key") {
  etcd_member etcd;
  zmq::context_t ctx;
  etcd_client c({etcd.url}, 300ms);
  std::string k = common::generate_keypair().public_key;
  // Broker 2 hears the key on the bus (ZAP) before anyone accepted it: a note in etcd.
  key_side b2(ctx, etcd.url, "broker-2");
  b2.mirror();
  REQUIRE(b2.keys.note_pending(k, "", 1));
  auto until = std::chrono::steady_clock::now() + 3s;
  while (state_in_etcd(c, k) != "pending" && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  REQUIRE(state_in_etcd(c, k) == "pending");
  until = std::chrono::steady_clock::now() + 3s;
  while (b2.keys.find(k)->revision == 0 && std::chrono::steady_clock::now() < until) {
    b2.pump();
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(b2.keys.find(k)->revision > 0);  // b2 holds etcd's note, with its revision
  // Broker 1 starts with the key in --authorized-keys (the bridge's key, as Ansible writes it).
  key_side b1(ctx, etcd.url, "broker-1");
  b1.keys.merge_authorized({{k, role::bridge, "bridge-h1", key_state::accepted, 0}}, 2);
  b1.mirror();
  b1.keys.seed_mirror();
  // Broker 2 names its pending key (an enrollment) before it heard of the acceptance: that write
  // was read at the note's revision and must not replace the accepted record.
  auto accepted_everywhere = [&] {
    b1.pump();
    return state_in_etcd(c, k) == "accepted" && b1.keys.find(k)->state == key_state::accepted;
  };
  until = std::chrono::steady_clock::now() + 5s;
  while (!accepted_everywhere() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  REQUIRE(state_in_etcd(c, k) == "accepted");
  REQUIRE(b2.keys.find(k)->state == key_state::pending);  // b2 has not pumped yet
  REQUIRE(b2.keys.note_pending(k, "late-name", 3));
  until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until &&
         !(b2.keys.find(k)->state == key_state::accepted && accepted_everywhere())) {
    b2.pump();
    std::this_thread::sleep_for(20ms);
  }
  CHECK(state_in_etcd(c, k) == "accepted");
  CHECK(b1.keys.find(k)->state == key_state::accepted);
  CHECK(b2.keys.find(k)->state == key_state::accepted);
  CHECK(b2.keys.find(k)->name == "bridge-h1");
  // A revocation at broker 2 is an operator act: a plain put, and broker 1 follows it.
  REQUIRE(b2.keys.set_refused(k, key_state::revoked, 4).ok());
  until = std::chrono::steady_clock::now() + 3s;
  while (b1.keys.find(k)->state != key_state::revoked && std::chrono::steady_clock::now() < until) {
    b1.pump();
    std::this_thread::sleep_for(20ms);
  }
  CHECK(b1.keys.find(k)->state == key_state::revoked);
  CHECK(state_in_etcd(c, k) == "revoked");
}

TEST_CASE("etcd_link: a broker's record lives under brokers/ on its lease") {
  etcd_member etcd;
  zmq::context_t ctx;
  etcd_link_settings s{{etcd.url}, "t/", "broker-2", 1, 100};
  s.broker_key = "t/brokers/2";
  s.broker_record = R"({"id": 2, "endpoint": "tcp://127.0.0.1:7405", "started": 42})";
  auto link = std::make_unique<etcd_link>(ctx, s);
  etcd_client reader({etcd.url});
  auto listed = [&] {
    auto r = reader.range("t/brokers/", true);
    return r ? parse_peer_records(*r, 1) : std::vector<peer_broker>{};
  };
  auto until = std::chrono::steady_clock::now() + 3s;
  while (listed().empty() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  auto peers = listed();
  REQUIRE(peers.size() == 1);
  CHECK(peers[0].id == 2);
  CHECK(peers[0].endpoint == "tcp://127.0.0.1:7405");
  CHECK(peers[0].started == 42);
  CHECK(parse_peer_records(*reader.range("t/brokers/", true), 2).empty());  // not itself
  link.reset();  // a clean stop revokes the lease: the record goes with it
  CHECK(listed().empty());
}

TEST_CASE("etcd_link: records and their name claims; the claims never reach the hub") {
  etcd_member etcd;
  zmq::context_t ctx;
  etcd_client writer({etcd.url});
  // A record with its claim, a claim alone (a value that is not JSON), and a damaged record.
  REQUIRE(*writer.put_claimed("t/services/n/s/p1/web", "s1", "t/services/s/s1", R"({"id":"s1"})") ==
          "");
  REQUIRE(writer.put("t/services/n/p/u/shop", "p1").ok());
  REQUIRE(writer.put("t/services/s/bad", "{not json").ok());
  etcd_link link(ctx, etcd_link_settings{{etcd.url}, "t/", "broker-1", 1, 100});
  auto next = [&](const std::string& kind) {
    auto until = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < until) {
      while (auto ev = link.receive())
        if (ev->value("ev", "") == kind) return *ev;
      std::this_thread::sleep_for(10ms);
    }
    return nlohmann::json();
  };
  auto snap = next("records-snapshot");
  REQUIRE(snap.is_object());
  std::map<std::string, nlohmann::json> got;
  for (const auto& r : snap["records"]) got[r.value("key", "")] = r["record"];
  CHECK(got.size() == 2);  // no claim
  CHECK(got["s/s1"]["id"] == "s1");
  CHECK(got["s/bad"] == nlohmann::json::object());  // refused by the hub, never a deletion
  // From the watch: a new claim is not reported, its record is.
  REQUIRE(*writer.put_claimed("t/services/n/s/p1/api", "s2", "t/services/s/s2", R"({"id":"s2"})") ==
          "");
  auto ev = next("record");
  REQUIRE(ev.is_object());
  CHECK(ev["key"] == "s/s2");
}

}  // namespace dockmesh::broker
