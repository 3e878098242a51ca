#include "broker/broker_core.hpp"

#include <doctest/doctest.h>

#include <fstream>

#include "broker/test_support.hpp"

using namespace dockmesh;
using namespace dockmesh::broker;
using nlohmann::json;

namespace {

common::envelope announcement(const std::string& action, json body) {
  common::envelope e;
  e.id = common::new_message_id();
  e.action = action;
  e.from = body.value("fqdn", "");
  e.body = std::move(body);
  return e;
}

const publication* to_topic(const publications& out, const std::string& topic) {
  for (const auto& p : out)
    if (p.topic == topic) return &p;
  return nullptr;
}

}  // namespace

TEST_CASE(
    "broker_core: a host going down ends this broker's fan-out at once, not at its deadline") {
  testing::temp_dir dir;
  std::ofstream(dir.path / "authorized_keys") << "";
  broker_settings s;
  s.data_dir = (dir.path / "db").string();
  s.in_memory_store = true;
  s.authorized_keys_file = (dir.path / "authorized_keys").string();
  broker_core core(s, "placeholder", 0);
  for (const char* h : {"h1.test", "h2.test"})
    (void)core.on_announcement(announcement("register", testing::host_record(h, 1, 1)), 0);
  common::envelope req;
  req.id = "fan1";
  req.action = "create-container";
  req.from = "ctl-1";
  req.reply_to = "rep/ctl-1/";
  req.user = "alice";
  req.role = "user";
  req.deadline = 60000;
  req.body = {{"image", "x"}, {"instances", 2}, {"strategy", "spread"}};
  auto subs = core.on_shared_request(req, 100);
  REQUIRE(subs.size() == 2);
  const publication* on_h1 = to_topic(subs, "req/host/h1.test/");
  REQUIRE(on_h1);
  (void)core.on_own_reply(common::make_reply(on_h1->env, "h1.test", 201, {{"id", "c1"}}), 200);
  // h1 keeps announcing itself; h2 falls silent and is marked down.
  publications out;
  for (std::int64_t t = 1000; t <= 5000 && !to_topic(out, "rep/ctl-1/"); t += 500) {
    (void)core.on_announcement(announcement("heartbeat", testing::host_record("h1.test", 1, t)), t);
    out = core.tick(t);
  }
  const publication* combined = to_topic(out, "rep/ctl-1/");
  REQUIRE(combined);  // long before the 60 s deadline
  CHECK(combined->env.re == "fan1");
  CHECK(combined->env.code == 503);
  CHECK_FALSE(to_topic(out, core.reply_topic()));  // nothing sent where nobody reads it
}
