#include "broker/host_directory.hpp"

#include <algorithm>
#include <random>

#include <doctest/doctest.h>

#include "broker/test_support.hpp"

using namespace dockmesh::broker;
using namespace dockmesh::broker::testing;
using nlohmann::json;

namespace {

struct announcement {
  std::string action;
  json body;
};

// A realistic history for a few hosts: registers, heartbeats with changing content, an agent
// restart (new incarnation), and a clean stop.
std::vector<announcement> history() {
  std::vector<announcement> a;
  for (int h = 1; h <= 4; ++h) {
    std::string fqdn = "host" + std::to_string(h) + ".mesh.test";
    a.push_back({"register", host_record(fqdn, 1000, 1)});
    for (int s = 2; s <= 6; ++s)
      a.push_back({"heartbeat", host_record(fqdn, 1000, s, {{"containers_running", s % 3}})});
    if (h % 2 == 0) {
      a.push_back({"register", host_record(fqdn, 2000, 1, {{"labels", {{"zone", "b"}}}})});
      a.push_back({"heartbeat", host_record(fqdn, 2000, 2, {{"labels", {{"zone", "b"}}}})});
    }
    if (h == 3)
      a.push_back({"unregister", {{"fqdn", fqdn}, {"incarnation", 1000}, {"sequence", 7}}});
  }
  return a;
}

json snapshot(const host_directory& d) {
  json out = json::object();
  for (const auto& [fqdn, h] : d.hosts())
    out[fqdn] = {{"record", h.record},
                 {"rv", h.record_version.to_json()},
                 {"pv", h.presence_version.to_json()},
                 {"unregistered", h.unregistered},
                 {"status", std::string(to_string(h.status))}};
  return out;
}

}  // namespace

TEST_CASE("the newest announcement wins whatever the arrival order") {
  auto all = history();
  host_directory in_order;
  for (const auto& a : all) REQUIRE(in_order.apply(a.action, a.body, 5000).ok());
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    auto shuffled = all;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    host_directory other;
    for (const auto& a : shuffled) REQUIRE(other.apply(a.action, a.body, 5000).ok());
    REQUIRE(snapshot(other) == snapshot(in_order));
  }
  const auto* h2 = in_order.find("host2.mesh.test");
  REQUIRE(h2);
  CHECK(h2->record_version == version_stamp{2000, 2});
  CHECK(h2->has_label("zone", "b"));
  const auto* h3 = in_order.find("host3.mesh.test");
  CHECK(h3->status == host_status::down);
  CHECK(h3->reason == "unregistered");
  CHECK(h3->record.value("sequence", 0) == 6);  // the record keeps the last heartbeat
}

TEST_CASE("an old announcement changes nothing and emits nothing") {
  host_directory d;
  REQUIRE(d.apply("heartbeat", host_record("a", 1, 5), 100).ok());
  auto r = d.apply("heartbeat", host_record("a", 1, 4, {{"cpus", 64}}), 200);
  REQUIRE(r.ok());
  CHECK(r->empty());
  CHECK(d.find("a")->record["cpus"] == 2);
  CHECK(d.find("a")->last_seen == 100);
}

TEST_CASE("events: up on first sight, updated on content change, none on a bare heartbeat") {
  host_directory d;
  auto first = d.apply("register", host_record("a", 1, 1), 0);
  REQUIRE(first->size() == 1);
  CHECK((*first)[0].action == "host-up");
  CHECK((*first)[0].body["status"] == "up");
  CHECK(d.apply("heartbeat", host_record("a", 1, 2), 1000)->empty());
  auto changed = d.apply("heartbeat", host_record("a", 1, 3, {{"containers_running", 4}}), 2000);
  REQUIRE(changed->size() == 1);
  CHECK((*changed)[0].action == "host-updated");
  CHECK((*changed)[0].body["containers_running"] == 4);
}

TEST_CASE("a silent host is down within down_after_ms, then gone after the retention") {
  host_directory d(directory_timing{3200, 60000});
  REQUIRE(d.apply("heartbeat", host_record("a", 1, 1), 10000).ok());
  CHECK(d.tick(13100).empty());
  auto down = d.tick(13300);
  REQUIRE(down.size() == 1);
  CHECK(down[0].action == "host-down");
  CHECK(d.find("a")->status == host_status::down);
  CHECK(d.tick(13400).empty());  // reported once
  auto back = d.apply("heartbeat", host_record("a", 1, 2), 14000);
  REQUIRE(back->size() == 1);
  CHECK((*back)[0].action == "host-up");
  CHECK(d.tick(17300).size() == 1);
  auto gone = d.tick(17300 + 60001);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].action == "host-gone");
  CHECK(d.list(host_status::gone, "", "").size() == 1);
}

TEST_CASE("a broker behind its input marks no host down for the time it spends behind") {
  host_directory d(directory_timing{3200, 60000});
  REQUIRE(d.apply("heartbeat", host_record("a", 1, 1), 10000).ok());
  // Ten seconds later, but the hub last had no input waiting at 11000: a's next heartbeat may
  // be queued there, so a stays up.
  CHECK(d.tick(20000, 11000).empty());
  CHECK(d.find("a")->status == host_status::up);
  // Caught up at 13300 with nothing from a since 10000: silent for longer than down_after_ms.
  auto down = d.tick(20100, 13300);
  REQUIRE(down.size() == 1);
  CHECK(down[0].action == "host-down");
  // A caught-up time later than now counts as now.
  REQUIRE(d.apply("heartbeat", host_record("a", 1, 2), 21000).ok());
  CHECK(d.tick(21100, 99999).empty());
}

TEST_CASE("malformed announcements are refused with a reason") {
  host_directory d;
  CHECK(!d.apply("heartbeat", json::array(), 0).ok());
  CHECK(!d.apply("heartbeat", {{"fqdn", "a"}}, 0).ok());
  CHECK(!d.apply("heartbeat", {{"fqdn", "a/b"}, {"incarnation", 1}, {"sequence", 1}}, 0).ok());
  CHECK(!d.apply("heartbeat", {{"fqdn", "a"}, {"incarnation", -1}, {"sequence", 1}}, 0).ok());
  CHECK(!d.apply("heartbeat", {{"fqdn", "a"}, {"incarnation", "1"}, {"sequence", 1}}, 0).ok());
  CHECK(d.hosts().empty());
}

TEST_CASE("list filters by status and label") {
  host_directory d;
  (void)d.apply("heartbeat", host_record("a", 1, 1, {{"labels", {{"region", "eu"}}}}), 0);
  (void)d.apply("heartbeat", host_record("b", 1, 1, {{"labels", {{"region", "us"}}}}), 0);
  (void)d.apply("unregister", {{"fqdn", "b"}, {"incarnation", 1}, {"sequence", 2}}, 0);
  CHECK(d.list(std::nullopt, "", "").size() == 2);
  CHECK(d.list(host_status::up, "", "").size() == 1);
  CHECK(d.list(std::nullopt, "region", "eu")[0]["fqdn"] == "a");
  CHECK(d.list(host_status::up, "region", "us").empty());
}

TEST_CASE("the directory survives a reopen of its database") {
  temp_dir dir;
  {
    state_db db(dir.str());
    host_directory d;
    (void)d.apply("heartbeat", host_record("a", 7, 9, {{"labels", {{"k", "v"}}}}), 1234);
    REQUIRE(d.flush(db, 1234).ok());
  }
  state_db db(dir.str());
  host_directory d;
  d.load(db, 99999);
  const auto* a = d.find("a");
  REQUIRE(a);
  CHECK(a->record_version == version_stamp{7, 9});
  CHECK(a->has_label("k", "v"));
  CHECK(a->first_seen == 1234);
  CHECK(a->status == host_status::up);
  // Liveness restarts at load: not down at once after a broker restart.
  CHECK(d.tick(99999 + 3000).empty());
  CHECK(d.tick(99999 + 3300).size() == 1);
}

TEST_CASE("bare heartbeats are written at most every heartbeat_persist_ms; changes at once") {
  temp_dir dir;
  state_db db(dir.str());
  host_directory d(directory_timing{3200, 60000, 30000});
  auto stored_sequence = [&] { return db.get("h/a").value()["record"]["sequence"].get<int>(); };
  (void)d.apply("register", host_record("a", 1, 1), 0);
  REQUIRE(d.flush(db, 0).ok());
  CHECK(stored_sequence() == 1);
  (void)d.apply("heartbeat", host_record("a", 1, 2), 1000);
  REQUIRE(d.flush(db, 1000).ok());
  CHECK(stored_sequence() == 1);  // only a heartbeat: not yet
  (void)d.apply("heartbeat", host_record("a", 1, 3, {{"containers_running", 5}}), 2000);
  REQUIRE(d.flush(db, 2000).ok());
  CHECK(stored_sequence() == 3);  // a change: written
  (void)d.apply("heartbeat", host_record("a", 1, 4, {{"containers_running", 5}}), 3000);
  REQUIRE(d.flush(db, 31999).ok());
  CHECK(stored_sequence() == 3);
  REQUIRE(d.flush(db, 32000).ok());
  CHECK(stored_sequence() == 4);
  (void)d.apply("heartbeat", host_record("a", 1, 5, {{"containers_running", 5}}), 33000);
  REQUIRE(d.flush(db, 33000, true).ok());  // on stop, everything
  CHECK(stored_sequence() == 5);
}

TEST_CASE("hosts heard every second are never marked down; silent ones are, once, on time") {
  // The liveness queue (no scan of every host per tick) against the plain rule, over 30 s of
  // jittered heartbeats from 300 hosts, ticks every 100 ms; hosts 0..9 go silent at 10 s.
  host_directory d(directory_timing{3200, 3600 * 1000});
  std::vector<std::int64_t> next(300), seq(300, 0);
  for (std::size_t i = 0; i < next.size(); ++i)
    next[i] = 1000 + static_cast<std::int64_t>(i * 37 % 1000);
  std::map<std::string, std::int64_t> down_at;
  for (std::int64_t now = 1000; now <= 31000; now += 10) {
    for (std::size_t i = 0; i < next.size(); ++i) {
      if (now < next[i] || (i < 10 && now >= 10000)) continue;
      REQUIRE(d.apply("heartbeat",
                      host_record(std::string("h").append(std::to_string(i)), 1, ++seq[i]), now)
                  .ok());
      next[i] = now + 900 + static_cast<std::int64_t>((i * 7919 + seq[i] * 104729) % 200);
    }
    if (now % 100 == 0)
      for (const auto& e : d.tick(now)) {
        REQUIRE(e.action == "host-down");
        CHECK(down_at.emplace(e.body["fqdn"].get<std::string>(), now).second);
      }
  }
  CHECK(down_at.size() == 10);
  for (const auto& [fqdn, at] : down_at) {
    int i = std::stoi(fqdn.substr(1));
    CHECK(i < 10);
    CHECK(at <=
          10000 + 3200 + 100 + 1100);  // last heard < 1.1 s before 10 s, one tick late at most
  }
}
