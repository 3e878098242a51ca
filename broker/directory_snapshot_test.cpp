#include "broker/directory_snapshot.hpp"

#include <doctest/doctest.h>

#include <functional>

#include "broker/control_service.hpp"
#include "broker/snapshot_fetch.hpp"
#include "broker/test_support.hpp"
#include "common/curve_keys.hpp"
#include "common/protocol/names.hpp"

using namespace dockmesh;
using namespace dockmesh::broker;
using namespace dockmesh::broker::testing;
using nlohmann::json;

namespace {

constexpr std::int64_t t0 = 1'000'000;

// A peer's directory: h1 up with two containers, h2 up, h3 stopped cleanly, h4 silent (down).
struct peer {
  host_directory hosts{directory_timing{3200, 24LL * 3600 * 1000}};
  container_index containers;
  peer() {
    (void)hosts.apply("register", host_record("h1", 5, 10, {{"labels", {{"zone", "a"}}}}), t0);
    (void)hosts.apply("heartbeat", host_record("h2", 6, 3), t0);
    (void)hosts.apply("heartbeat", host_record("h3", 7, 1), t0);
    (void)hosts.apply("unregister", {{"fqdn", "h3"}, {"incarnation", 7}, {"sequence", 2}}, t0);
    (void)hosts.apply("heartbeat", host_record("h4", 8, 1), t0);
    (void)hosts.apply("heartbeat", host_record("h1", 5, 11, {{"labels", {{"zone", "a"}}}}),
                      t0 + 4000);
    (void)hosts.apply("heartbeat", host_record("h2", 6, 4), t0 + 4000);
    (void)hosts.tick(t0 + 4000);  // h4 missed its heartbeats
    (void)containers.apply_inventory(inventory(
        "h1", 5, 9,
        json::array({container("aaa1", "web", "img", "alice"), container("aaa2", "db", "img")})));
    (void)containers.apply_inventory(inventory("h2", 6, 2, json::array()));
  }
  json snapshot() const {
    return make_directory_snapshot(hosts, containers, "broker-1", t0 + 4100);
  }
};

struct late {
  host_directory hosts{directory_timing{3200, 24LL * 3600 * 1000}};
  container_index containers;
  common::result<snapshot_counts> load(const json& body, std::int64_t now = t0 + 5000) {
    return load_directory_snapshot(body, hosts, containers, now);
  }
};

}  // namespace

TEST_CASE("a snapshot loaded into an empty broker answers like the peer") {
  peer p;
  late l;
  auto counts = l.load(p.snapshot());
  REQUIRE(counts.ok());
  CHECK(counts->hosts == 4);
  CHECK(counts->containers == 2);
  CHECK(counts->hosts_adopted == 4);
  CHECK(counts->inventories_adopted == 2);
  CHECK(l.hosts.list({}, "", "") == p.hosts.list({}, "", ""));
  CHECK(l.containers.list("", "") == p.containers.list("", ""));
  CHECK(l.hosts.find("h3")->status == host_status::down);
  CHECK(l.hosts.find("h3")->unregistered);
  CHECK(l.hosts.find("h4")->reason == "missed heartbeats");
  CHECK(l.hosts.find("h1")->has_label("zone", "a"));
  CHECK(l.containers.lookup("web", "alice")->host == "h1");
  // Loaded, not heard from its agent: the broker still asks the host for its own inventory.
  CHECK_FALSE(l.containers.heard_since_start("h1"));
  CHECK(l.hosts.dirty());
}

TEST_CASE("loaded hosts count as heard now: silent ones go down, announcements win") {
  peer p;
  late l;
  REQUIRE(l.load(p.snapshot(), t0 + 5000).ok());
  CHECK(l.hosts.tick(t0 + 5000 + 3000).empty());  // not yet down_after_ms since the load
  (void)l.hosts.apply("heartbeat", host_record("h2", 6, 5), t0 + 7000);
  auto events = l.hosts.tick(t0 + 5000 + 3300);
  REQUIRE(events.size() == 1);  // h1 stayed silent after the load; h2 spoke
  CHECK(events[0].body["fqdn"] == "h1");
  CHECK(l.hosts.find("h2")->status == host_status::up);
  CHECK(l.hosts.find("h2")->record_version == version_stamp{6, 5});
  // An inventory newer than the snapshot's replaces it; an older one does not.
  CHECK(l.containers.apply_inventory(inventory("h1", 5, 8, json::array()))->empty());
  CHECK(l.containers.size() == 2);
  CHECK(l.containers.apply_inventory(inventory("h1", 5, 12, json::array()))->size() == 2);
  CHECK(l.containers.size() == 0);
}

TEST_CASE("what this broker already holds newer than the snapshot stays") {
  peer p;
  late l;
  (void)l.hosts.apply("heartbeat", host_record("h1", 5, 50, {{"cpus", 64}}), t0 + 4900);
  (void)l.containers.apply_inventory(
      inventory("h1", 5, 49, json::array({container("bbb1", "new", "img")})));
  auto counts = l.load(p.snapshot());
  REQUIRE(counts.ok());
  CHECK(counts->hosts_adopted == 3);
  CHECK(counts->inventories_adopted == 1);
  CHECK(l.hosts.find("h1")->record["cpus"] == 64);
  CHECK(l.containers.lookup("bbb1", "").ok());
  CHECK_FALSE(l.containers.lookup("aaa1", "").ok());
  // The same snapshot again changes nothing.
  CHECK(l.load(p.snapshot())->hosts_adopted == 0);
}

TEST_CASE("a malformed or hostile snapshot is refused whole and changes nothing") {
  peer p;
  const json good = p.snapshot();
  using patch = std::function<void(json&)>;
  const std::vector<std::pair<const char*, patch>> cases = {
      {"not an object", [](json& s) { s = json::array(); }},
      {"no hosts list", [](json& s) { s.erase("hosts"); }},
      {"containers not a list", [](json& s) { s["containers"] = "all"; }},
      {"host not an object", [](json& s) { s["hosts"].push_back(42); }},
      {"path in fqdn", [](json& s) { s["hosts"][0]["fqdn"] = "../etc"; }},
      {"unknown status", [](json& s) { s["hosts"][0]["status"] = "zombie"; }},
      {"version a string", [](json& s) { s["hosts"][0]["presence_version"] = "5,11"; }},
      {"version of three",
       [](json& s) {
         s["hosts"][0]["record_version"] = {5, 11, 1};
       }},
      {"negative version",
       [](json& s) {
         s["hosts"][0]["presence_version"] = {5, -7};
       }},
      {"huge unsigned time",
       [](json& s) { s["hosts"][0]["last_seen"] = std::uint64_t{18446744073709551615ULL}; }},
      {"negative time", [](json& s) { s["hosts"][0]["first_seen"] = -1; }},
      {"record of another host", [](json& s) { s["hosts"][0]["record"]["fqdn"] = "h9"; }},
      {"record newer than said", [](json& s) { s["hosts"][0]["record"]["sequence"] = 99; }},
      {"record not an object", [](json& s) { s["hosts"][0]["record"] = "x"; }},
      {"unregistered not a bool", [](json& s) { s["hosts"][0]["unregistered"] = 1; }},
      {"long reason", [](json& s) { s["hosts"][0]["reason"] = std::string(5000, 'r'); }},
      {"host twice", [](json& s) { s["hosts"].push_back(s["hosts"][0]); }},
      {"inventory twice", [](json& s) { s["inventories"].push_back(s["inventories"][0]); }},
      {"inventory without version", [](json& s) { s["inventories"][0].erase("version"); }},
      {"container of no inventory", [](json& s) { s["containers"][0]["host"] = "h4"; }},
      {"container without host", [](json& s) { s["containers"][0].erase("host"); }},
      {"container id with a slash", [](json& s) { s["containers"][0]["id"] = "a/../b"; }},
      {"container twice", [](json& s) { s["containers"].push_back(s["containers"][0]); }},
      {"nested junk", [](json& s) { s["hosts"][1] = json::array({json::array({json()})}); }},
  };
  for (const auto& c : cases) {
    std::string name = c.first;
    CAPTURE(name);
    json bad = good;
    c.second(bad);
    late l;
    auto r = l.load(bad);
    CHECK_FALSE(r.ok());
    CHECK(l.hosts.hosts().empty());
    CHECK(l.containers.size() == 0);
  }
  late l;
  CHECK(l.load(good).ok());  // and the untouched one still loads
}

TEST_CASE("only a broker may ask for the snapshot") {
  temp_dir dir;
  state_db db{dir.str()};
  key_store keys{db};
  join_tokens tokens{db};
  peer p;
  control_service svc{keys, tokens, p.hosts, p.containers, "broker-1"};
  std::string admin = common::generate_keypair().public_key;
  REQUIRE(keys.accept(admin, role::admin, "admin", 0).ok());
  common::envelope req;
  req.id = "r";
  req.action = std::string(common::protocol::names::directory_snapshot);
  req.body = json::object();
  auto as_admin = svc.handle(identity{role::admin, "admin"}, admin, req, t0);
  CHECK(as_admin.reply.code == 403);
  CHECK(svc.handle(identity{role::pending, "k"}, "k", req, t0).reply.code == 403);
  auto as_broker = svc.handle(identity{role::broker, "broker"}, "server-key", req, t0 + 4100);
  REQUIRE(as_broker.reply.code == 200);
  CHECK(as_broker.reply.body == p.snapshot());
}

TEST_CASE("peers from etcd: live others, oldest first, junk skipped") {
  common::etcd_range range;
  auto kv = [&](std::string value) { range.kvs.push_back({"dockmesh/brokers/x", value, 1, 1, 7}); };
  kv(R"({"id": 2, "endpoint": "tcp://127.0.0.1:7405", "started": 300})");
  kv(R"({"id": 1, "endpoint": "tcp://127.0.0.1:7402", "started": 100})");
  kv(R"({"id": 3, "endpoint": "tcp://127.0.0.1:7408", "started": 50})");  // ourselves
  kv(R"({"id": 4, "endpoint": "tcp://*:7411", "started": 10})");          // unreachable
  kv(R"({"id": "5", "endpoint": "tcp://127.0.0.1:7414"})");
  kv("not json");
  auto peers = parse_peer_records(range, 3);
  REQUIRE(peers.size() == 2);
  CHECK(peers[0].id == 1);
  CHECK(peers[1].id == 2);
  CHECK(peers[1].endpoint == "tcp://127.0.0.1:7405");
  CHECK(names_an_address("tcp://10.0.0.1:7402"));
  CHECK_FALSE(names_an_address("tcp://0.0.0.0:7402"));
  CHECK_FALSE(names_an_address("ipc:///tmp/x"));
  CHECK_FALSE(names_an_address("tcp://127.0.0.1:"));
}

TEST_CASE("a recorded peer that is dead is given up within the connect timeout") {
  // A port nobody listens on: bound by a socket that is closed again.
  zmq::context_t ctx;
  std::string endpoint;
  {
    zmq::socket_t probe(ctx, zmq::socket_type::router);
    probe.bind("tcp://127.0.0.1:*");
    endpoint = probe.get(zmq::sockopt::last_endpoint);
  }
  auto started = std::chrono::steady_clock::now();
  auto r = ask_for_snapshot(ctx, peer_broker{9, endpoint, 0}, common::generate_keypair(),
                            "broker-1", std::chrono::milliseconds(2000));
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == common::errc::unavailable);
  CHECK(took < std::chrono::milliseconds(1000));  // 300 ms, not the 2 s offered
}
