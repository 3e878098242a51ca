#include "broker/create_dispatcher.hpp"

#include <doctest/doctest.h>

#include "broker/test_support.hpp"

using namespace dockmesh;
using namespace dockmesh::broker;
using nlohmann::json;

namespace {

host_candidate host(std::string fqdn) {
  host_candidate h;
  h.fqdn = std::move(fqdn);
  h.up = h.docker_up = true;
  h.memory_bytes = 8LL << 30;
  return h;
}

create_dispatcher::fleet_fn fleet_of(std::vector<std::string> names) {
  auto fleet = std::make_shared<std::vector<host_candidate>>();
  for (const auto& n : names) fleet->push_back(host(n));
  return [fleet]() -> const std::vector<host_candidate>& { return *fleet; };
}

common::envelope create(json body, std::string id = "req1") {
  common::envelope e;
  e.id = std::move(id);
  e.action = "create-container";
  e.from = "ctl-1";
  e.reply_to = "rep/ctl-1/";
  e.user = "alice";
  e.role = "user";
  e.body = std::move(body);
  return e;
}

common::envelope answer(const common::envelope& sub, std::string from, int code, json body) {
  return common::make_reply(sub, std::move(from), code, std::move(body));
}

}  // namespace

TEST_CASE("a single placement is passed on with the same id and reply_to") {
  create_dispatcher d("broker-1", 1);
  auto out =
      d.on_request(create({{"image", "busybox"}, {"strategy", "spread"}}), fleet_of({"h1"}), 0);
  REQUIRE(out.size() == 1);
  CHECK(out[0].topic == "req/host/h1/");
  CHECK(out[0].env.id == "req1");
  CHECK(out[0].env.reply_to == "rep/ctl-1/");
  CHECK(out[0].env.user == "alice");
  CHECK(out[0].env.body == json{{"image", "busybox"}});  // scheduling fields stripped
  // A retry goes to the same host with the new attempt, even if the fleet changed.
  auto again = create({{"image", "busybox"}});
  again.attempt = 1;
  auto retry = d.on_request(again, fleet_of({"h9"}), 1000);
  REQUIRE(retry.size() == 1);
  CHECK(retry[0].topic == "req/host/h1/");
  CHECK(retry[0].env.attempt == 1);
  CHECK(d.counters().retries == 1);
}

TEST_CASE("instances over several hosts: sub-requests and one combined reply") {
  create_dispatcher d("broker-1", 1);
  auto out =
      d.on_request(create({{"image", "busybox"}, {"instances", 3}}), fleet_of({"a", "b", "c"}), 0);
  REQUIRE(out.size() == 3);
  for (const auto& p : out) {
    CHECK(p.env.reply_to == "rep/broker-1/");
    CHECK(p.env.body["instances"] == 1);
    CHECK(p.env.id.rfind("req1-", 0) == 0);
  }
  CHECK(d.on_reply(answer(out[0].env, "a", 201, {{"id", "c1"}}), 10).empty());
  CHECK(d.on_reply(answer(out[0].env, "a", 201, {{"id", "c1"}}), 11).empty());  // duplicate
  CHECK(d.on_reply(answer(out[1].env, "b", 201, {{"containers", {{{"id", "c2"}}}}}), 12).empty());
  auto done = d.on_reply(answer(out[2].env, "c", 201, {{"id", "c3"}}), 13);
  REQUIRE(done.size() == 1);
  CHECK(done[0].topic == "rep/ctl-1/");
  CHECK(done[0].env.re == "req1");
  CHECK(done[0].env.code == 201);
  CHECK(done[0].env.body["containers"].size() == 3);
  CHECK(done[0].env.body["hosts"].size() == 3);
  // A retry after completion gets the same combined reply, nothing is re-sent to agents.
  auto retry = d.on_request(create({{"image", "busybox"}, {"instances", 3}}), fleet_of({"a"}), 20);
  REQUIRE(retry.size() == 1);
  CHECK(retry[0].env.id == done[0].env.id);
}

TEST_CASE("a fan-out with a failing host reports it; a silent host times out") {
  create_dispatcher d("broker-1", 1);
  auto req = create({{"image", "x"}, {"instances", 2}});
  req.deadline = 5000;
  auto out = d.on_request(req, fleet_of({"a", "b"}), 0);
  REQUIRE(out.size() == 2);
  (void)d.on_reply(answer(out[0].env, "a", 201, {{"id", "c1"}}), 10);
  CHECK(d.tick(4999).empty());
  CHECK(d.pending_fanouts() == 1);
  auto late = d.tick(5000);
  REQUIRE(late.size() == 1);
  CHECK(late[0].env.code == 504);
  CHECK(late[0].env.err->message.find("1 of 2") != std::string::npos);
  CHECK(d.pending_fanouts() == 0);
  // Retrying an unfinished fan-out re-sends only to hosts that did not answer. (After the
  // first placement on b stopped counting as in flight: at its deadline.)
  auto req2 = create({{"image", "x"}, {"instances", 2}}, "req2");
  auto out2 = d.on_request(req2, fleet_of({"a", "b"}), 5000);
  REQUIRE(out2.size() == 2);
  (void)d.on_reply(answer(out2[1].env, "b", 409, nullptr), 5005);
  req2.attempt = 1;
  auto resent = d.on_request(req2, fleet_of({"a", "b"}), 5006);
  REQUIRE(resent.size() == 1);
  CHECK(resent[0].topic == out2[0].topic);
  CHECK(resent[0].env.attempt == 1);
}

TEST_CASE("unplaceable requests get 503 with the filter counts; bad ones 400") {
  create_dispatcher d("broker-1", 1);
  auto none =
      d.on_request(create({{"image", "x"}, {"constraints", {"zone==z"}}}), fleet_of({"a"}), 0);
  REQUIRE(none.size() == 1);
  CHECK(none[0].env.code == 503);
  CHECK(none[0].env.body["excluded"]["constraints"] == 1);
  CHECK(none[0].env.err->message.find("zone==z") != std::string::npos);
  auto bad = d.on_request(create({{"image", "x"}, {"strategy", "?"}}), fleet_of({"a"}), 0);
  CHECK(bad[0].env.code == 400);
  auto other = create({{"id", "x"}});
  other.action = "stop-container";
  CHECK(d.on_request(other, fleet_of({"a"}), 0)[0].env.code == 400);
  auto nowhere = create({{"image", "x"}});
  nowhere.reply_to = "ann/";
  CHECK(d.on_request(nowhere, fleet_of({"a"}), 0).empty());
  // A 503 is not cached: the same id is placed once a host fits.
  auto later =
      d.on_request(create({{"image", "x"}, {"constraints", {"zone!=z"}}}), fleet_of({"a"}), 1);
  CHECK(later[0].topic == "req/host/a/");
}

TEST_CASE("a placement survives a restart: the retry goes to the same hosts") {
  testing::temp_dir dir;
  publications first;
  {
    state_db db(dir.str());
    create_dispatcher d("broker-1", 1);
    d.attach(db, 1000);
    first = d.on_request(create({{"image", "x"}, {"instances", 2}}), fleet_of({"a", "b"}), 1000);
    REQUIRE(first.size() == 2);
    auto single = d.on_request(create({{"image", "x"}}, "solo"), fleet_of({"a", "b"}), 1000);
    REQUIRE(single.size() == 1);
  }
  state_db db(dir.str());
  create_dispatcher d("broker-1", 2);
  d.attach(db, 2000);
  auto retry = create({{"image", "x"}, {"instances", 2}});
  retry.attempt = 2;
  auto again = d.on_request(retry, fleet_of({"z"}), 2000);  // the fleet changed meanwhile
  REQUIRE(again.size() == 2);
  CHECK(again[0].topic == first[0].topic);
  CHECK(again[1].topic == first[1].topic);
  CHECK(again[0].env.id == first[0].env.id);
  CHECK(again[0].env.attempt == 2);
  // The combined reply still comes together.
  (void)d.on_reply(answer(again[0].env, "a", 201, {{"id", "c1"}}), 2100);
  auto done = d.on_reply(answer(again[1].env, "b", 201, {{"id", "c2"}}), 2100);
  REQUIRE(done.size() == 1);
  CHECK(done[0].env.body["containers"].size() == 2);
  auto solo = create({{"image", "x"}}, "solo");
  solo.attempt = 1;
  auto s = d.on_request(solo, fleet_of({"z"}), 2000);
  REQUIRE(s.size() == 1);
  CHECK(s[0].topic != "req/host/z/");
  // Entries older than the cache window are dropped at start.
  create_dispatcher late("broker-1", 3);
  late.attach(db, 2000 + create_dispatcher::cache_ms + 1);
  auto fresh = late.on_request(solo, fleet_of({"z"}), 2000 + create_dispatcher::cache_ms + 1);
  CHECK(fresh[0].topic == "req/host/z/");
}

TEST_CASE("a reply to a placed request counts only from a host it was placed on") {
  create_dispatcher d("broker-1", 1);
  auto one = d.on_request(create({{"image", "busybox"}}), fleet_of({"h1"}), 0);
  REQUIRE(one.size() == 1);
  CHECK(d.reply_from_placed_host("req1", "h1"));
  CHECK_FALSE(d.reply_from_placed_host("req1", "h2"));
  CHECK(d.reply_from_placed_host("not-ours", "h2"));
  create_dispatcher f("broker-1", 1);
  auto out =
      f.on_request(create({{"image", "busybox"}, {"instances", 2}}), fleet_of({"a", "b"}), 0);
  REQUIRE(out.size() == 2);
  std::string host0 = out[0].topic.substr(9, out[0].topic.size() - 10);
  std::string other = host0 == "a" ? "b" : "a";
  CHECK(f.reply_from_placed_host(out[0].env.id, host0));
  CHECK_FALSE(f.reply_from_placed_host(out[0].env.id, other));
  CHECK_FALSE(f.reply_from_placed_host(out[0].env.id, "c"));
}

TEST_CASE("a burst of creates counts what is in flight: it spreads like a slow sequence") {
  create_dispatcher d("broker-1", 1);
  auto fleet = fleet_of({"a", "b", "c"});
  std::map<std::string, int> per_host;
  for (int i = 0; i < 6; ++i) {
    auto out = d.on_request(create({{"image", "busybox"}}, "burst" + std::to_string(i)), fleet, i);
    REQUIRE(out.size() == 1);
    ++per_host[out[0].topic];
  }
  CHECK(per_host ==
        std::map<std::string, int>{{"req/host/a/", 2}, {"req/host/b/", 2}, {"req/host/c/", 2}});
  // Seen in a's inventory: a's two no longer count (the fleet would show them instead), so
  // with this fleet, which has not caught up, a is the emptiest again.
  d.on_inventory("a", {"burst0", "burst3"});
  auto next = d.on_request(create({{"image", "busybox"}}, "burst6"), fleet, 10);
  REQUIRE(next.size() == 1);
  CHECK(next[0].topic == "req/host/a/");
}

TEST_CASE("spread instances are numbered across hosts") {
  create_dispatcher d("broker-1", 1);
  auto out = d.on_request(create({{"image", "busybox"}, {"name", "batch"}, {"instances", 5}}),
                          fleet_of({"a", "b"}), 0);
  REQUIRE(out.size() == 2);
  CHECK(out[0].env.body["first_instance"] == 1);
  CHECK(out[1].env.body["first_instance"] == 1 + out[0].env.body["instances"].get<int>());
}

TEST_CASE("etcd mode: nothing is sent before the placement is committed; a committed one wins") {
  create_dispatcher d("broker-2", 1);
  std::vector<std::pair<std::string, json>> commits;
  d.set_commit([&](const std::string& id, const json& record, bool probe) {
    CHECK_FALSE(probe);
    commits.emplace_back(id, record);
  });
  d.set_epoch(42);
  CHECK(d.on_request(create({{"image", "busybox"}}), fleet_of({"h1"}), 0).empty());
  REQUIRE(commits.size() == 1);
  CHECK(commits[0].second["hosts"] == json::array({json::array({"h1", 1})}));
  CHECK(commits[0].second["epoch"] == 42);
  // A retry while etcd has not answered sends nothing and commits nothing more.
  CHECK(d.on_request(create({{"image", "busybox"}}), fleet_of({"h1"}), 10).empty());
  CHECK(commits.size() == 1);
  // etcd holds another leader's placement: it is used, with this leader's epoch.
  json theirs = {{"hosts", json::array({json::array({"h7", 1})})}, {"epoch", 7}};
  auto out = d.on_placed("req1", true, theirs, "", 20);
  REQUIRE(out.size() == 1);
  CHECK(out[0].topic == "req/host/h7/");
  CHECK(out[0].env.epoch == 42);
}

TEST_CASE("etcd mode: an unplaceable request looks for a committed placement, else 503") {
  create_dispatcher d("broker-2", 1);
  bool probed = false;
  d.set_commit([&](const std::string&, const json&, bool probe) { probed = probe; });
  CHECK(d.on_request(create({{"image", "busybox"}}), fleet_of({}), 0).empty());
  CHECK(probed);
  auto out = d.on_placed("req1", false, nullptr, "no placement", 10);
  REQUIRE(out.size() == 1);
  CHECK(out[0].env.code == 503);
  // etcd unreachable while placing: 503, the requester retries.
  CHECK(d.on_request(create({{"image", "busybox"}}, "req2"), fleet_of({"h1"}), 20).empty());
  out = d.on_placed("req2", false, nullptr, "unreachable", 30);
  REQUIRE(out.size() == 1);
  CHECK(out[0].env.code == 503);
}

TEST_CASE("a fan-out that failed only on 503/504 or silence asks those hosts again on a retry") {
  create_dispatcher d("broker-1", 1);
  auto req = create({{"image", "x"}, {"instances", 3}});
  req.deadline = 5000;
  auto out = d.on_request(req, fleet_of({"a", "b", "c"}), 0);
  REQUIRE(out.size() == 3);
  (void)d.on_reply(answer(out[0].env, "a", 201, {{"id", "c1"}}), 10);
  (void)d.on_reply(answer(out[1].env, "b", 503, nullptr), 11);  // b was down
  auto late = d.tick(5000);                                     // c never answered
  REQUIRE(late.size() == 1);
  CHECK(late[0].env.code == 503);
  // The retry goes to b and c only, with a fresh deadline, and ends in one 201 for all three.
  req.attempt = 1;
  req.deadline = 20000;
  auto again = d.on_request(req, fleet_of({"a", "b", "c"}), 6000);
  REQUIRE(again.size() == 2);
  CHECK(again[0].env.id == out[1].env.id);
  CHECK(again[1].env.id == out[2].env.id);
  CHECK(d.tick(19999).empty());
  CHECK(d.on_reply(answer(again[0].env, "b", 201, {{"id", "c2"}}), 7000).empty());
  auto done = d.on_reply(answer(again[1].env, "c", 201, {{"id", "c3"}}), 7001);
  REQUIRE(done.size() == 1);
  CHECK(done[0].env.code == 201);
  CHECK(done[0].env.body["containers"].size() == 3);
  // A real refusal (409 from a host) is final: a retry gets the same answer, nothing is sent.
  auto req2 = create({{"image", "x"}, {"instances", 2}}, "req2");
  auto out2 = d.on_request(req2, fleet_of({"a", "b"}), 8000);
  REQUIRE(out2.size() == 2);
  (void)d.on_reply(answer(out2[0].env, "a", 201, {{"id", "c4"}}), 8001);
  auto refused = d.on_reply(answer(out2[1].env, "b", 409, nullptr), 8002);
  REQUIRE(refused.size() == 1);
  req2.attempt = 1;
  auto same = d.on_request(req2, fleet_of({"a", "b"}), 8003);
  REQUIRE(same.size() == 1);
  CHECK(same[0].topic == "rep/ctl-1/");
  CHECK(same[0].env.code == 409);
}
