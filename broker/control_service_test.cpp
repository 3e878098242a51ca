#include "broker/control_service.hpp"

#include <doctest/doctest.h>

#include "broker/test_support.hpp"
#include "common/curve_keys.hpp"
#include "common/protocol/names.hpp"

using namespace dockmesh;
using namespace dockmesh::broker;
using namespace dockmesh::broker::testing;
using nlohmann::json;

namespace {

struct fixture {
  temp_dir dir;
  state_db db{dir.str()};
  key_store keys{db};
  join_tokens tokens{db};
  host_directory hosts;
  container_index containers;
  control_service svc{keys, tokens, hosts, containers, "broker-1"};
  std::string admin_key = common::generate_keypair().public_key;
  std::string bridge_key = common::generate_keypair().public_key;
  std::string agent_key = common::generate_keypair().public_key;

  fixture() {
    REQUIRE(keys.accept(admin_key, role::admin, "admin", 0).ok());
    REQUIRE(keys.accept(bridge_key, role::bridge, "bridge", 0).ok());
    REQUIRE(keys.accept(agent_key, role::agent, "h1", 0).ok());
    (void)hosts.apply("heartbeat", host_record("h1", 1, 1), 0);
    (void)containers.apply_inventory(
        inventory("h1", 1, 2, json::array({container("abc1", "web", "nginx", "alice")})));
  }

  control_outcome call(const std::string& key, std::string action, json body = json::object()) {
    common::envelope req;
    req.id = "r";
    req.action = std::move(action);
    req.body = std::move(body);
    const key_entry* e = keys.find(key);
    identity who = e ? identity{e->who, e->name} : identity{role::pending, key};
    return svc.handle(who, key, req, 1000);
  }
};

}  // namespace

TEST_CASE("directory queries for admin and bridge, not for agents") {
  fixture f;
  auto hosts = f.call(f.bridge_key, "hosts", {{"status", "up"}});
  CHECK(hosts.reply.code == 200);
  CHECK(hosts.reply.body["hosts"].size() == 1);
  CHECK(f.call(f.admin_key, "host", {{"fqdn", "h1"}}).reply.body["status"] == "up");
  CHECK(f.call(f.admin_key, "host", {{"fqdn", "nope"}}).reply.code == 404);
  CHECK(f.call(f.admin_key, "hosts", {{"status", "sideways"}}).reply.code == 400);
  CHECK(f.call(f.admin_key, "hosts", {{"label", "novalue"}}).reply.code == 400);
  CHECK(f.call(f.bridge_key, "container", {{"ref", "web"}, {"owner", "alice"}}).reply.body["id"] ==
        "abc1");
  CHECK(f.call(f.bridge_key, "container", {{"ref", "web"}, {"owner", "bob"}}).reply.code == 404);
  CHECK(f.call(f.bridge_key, "containers", {{"host", "h1"}}).reply.body["containers"].size() == 1);
  CHECK(f.call(f.agent_key, "hosts").reply.code == 403);
  CHECK(f.call(f.bridge_key, "keys-list").reply.code == 403);
  CHECK(f.call(f.admin_key, "frobnicate").reply.code == 400);
}

TEST_CASE("enroll: a valid token accepts, no token leaves the key pending") {
  fixture f;
  auto token = f.call(f.admin_key, "token-create", {{"ttl_seconds", 60}});
  REQUIRE(token.reply.code == 200);
  std::string t = token.reply.body["token"];
  std::string k1 = common::generate_keypair().public_key;
  auto ok = f.call(k1, "enroll", {{"fqdn", "h2"}, {"token", t}});
  CHECK(ok.reply.code == 200);
  CHECK(f.keys.find(k1)->state == key_state::accepted);
  CHECK(f.keys.find(k1)->name == "h2");
  std::string k2 = common::generate_keypair().public_key;
  auto spent = f.call(k2, "enroll", {{"fqdn", "h3"}, {"token", t}});
  CHECK(spent.reply.code == 202);
  CHECK(f.keys.find(k2)->state == key_state::pending);
  CHECK(f.keys.find(k2)->name == "h3");
  // A pending key can do nothing else.
  CHECK(f.call(k2, "hosts").reply.code == 403);
  // The admin accepts it by name.
  auto accepted = f.call(f.admin_key, "keys-accept", {{"key", "h3"}});
  CHECK(accepted.reply.code == 200);
  CHECK(!accepted.cut_off);
  CHECK(f.keys.find(k2)->state == key_state::accepted);
  // Enrolling for an fqdn another key holds is a conflict, and does not spend the token.
  auto t2 = f.call(f.admin_key, "token-create", {{"ttl_seconds", 60}})
                .reply.body["token"]
                .get<std::string>();
  std::string k3 = common::generate_keypair().public_key;
  CHECK(f.call(k3, "enroll", {{"fqdn", "h1"}, {"token", t2}}).reply.code == 409);
  CHECK(f.call(k3, "enroll", {{"fqdn", "h4"}, {"token", t2}}).reply.code == 200);
  CHECK(
      f.call(common::generate_keypair().public_key, "enroll", {{"fqdn", "bad/fqdn"}}).reply.code ==
      400);
}

TEST_CASE("revoking an accepted key cuts it off at once, including on this endpoint") {
  fixture f;
  auto r = f.call(f.admin_key, "keys-revoke", {{"key", "bridge"}});
  CHECK(r.reply.code == 200);
  CHECK(r.cut_off);
  CHECK(r.reply.body["state"] == "revoked");
  // The bridge's live control connection still says bridge:bridge, but the key is revoked.
  common::envelope req;
  req.id = "r";
  req.action = "hosts";
  CHECK(f.svc.handle(identity{role::bridge, "bridge"}, f.bridge_key, req, 1).reply.code == 403);
  CHECK(f.call(f.bridge_key, "enroll", {{"fqdn", "x"}}).reply.code == 403);
  // Rejecting a pending key does not need a cut-off.
  std::string k = common::generate_keypair().public_key;
  (void)f.call(k, "enroll", {{"fqdn", "h5"}});
  auto rej = f.call(f.admin_key, "keys-reject", {{"key", k}});
  CHECK(rej.reply.code == 200);
  CHECK(!rej.cut_off);
  CHECK(f.call(f.admin_key, "keys-accept", {{"key", "nobody"}}).reply.code == 404);
  CHECK(f.call(f.admin_key, "keys-accept", {{"key", f.agent_key}, {"role", "broker"}}).reply.code ==
        400);
  auto renamed = f.call(f.admin_key, "keys-accept", {{"key", f.agent_key}, {"name", "h1b"}});
  CHECK(renamed.cut_off);  // live connections carry the old name
}

TEST_CASE("keys-list and token-create are admin only and validated") {
  fixture f;
  auto list = f.call(f.admin_key, "keys-list");
  CHECK(list.reply.body["keys"].size() == 3);
  CHECK(f.call(f.admin_key, "token-create", {{"ttl_seconds", "60"}}).reply.code == 400);
  CHECK(f.call(f.admin_key, "token-create", {{"ttl_seconds", -5}}).reply.code == 400);
  CHECK(f.call(f.agent_key, "token-create", {{"ttl_seconds", 60}}).reply.code == 403);
}

TEST_CASE("every control call of the catalogue has a handler, and only those") {
  using namespace dockmesh::common::protocol;
  CHECK_NOTHROW(check_control_routes(catalogue::builtin()));
  auto entries = builtin_messages();
  message_spec extra;
  extra.name = "fixture-control";
  extra.kind = message_kind::control_call;
  extra.senders = {role::admin};
  entries.push_back(extra);
  CHECK_THROWS_WITH_AS(check_control_routes(catalogue(entries)),
                       doctest::Contains("fixture-control"), std::logic_error);
  std::erase_if(entries, [](const message_spec& s) { return s.name == names::stats; });
  entries.pop_back();
  CHECK_THROWS_WITH_AS(check_control_routes(catalogue(entries)), doctest::Contains("stats"),
                       std::logic_error);
}

TEST_CASE(
    "audit is a control call of the catalogue: admin and bridge keys read it, agents do not") {
  fixture f;
  const std::string audit(common::protocol::names::audit);
  CHECK(f.call(f.admin_key, audit).reply.body["entries"] == json::array());  // no log attached
  f.svc.set_audit_source([](const json& body) -> common::result<json> {
    if (body.contains("limit") && !body["limit"].is_number_integer())
      return common::make_error(common::errc::invalid_argument, "limit must be 1..1000");
    return json{
        {"entries",
         json::array({{{"time", 1}, {"who", "admin:admin"}, {"action", "x"}, {"code", 200}}})}};
  });
  CHECK(f.call(f.admin_key, audit).reply.body["entries"].size() == 1);
  CHECK(f.call(f.bridge_key, audit).reply.code == 200);
  auto refused = f.call(f.agent_key, audit);
  CHECK(refused.reply.code == 403);
  REQUIRE(refused.reply.err);
  CHECK(refused.reply.err->message == "audit needs an admin or bridge key");
  CHECK(f.call(f.admin_key, audit, {{"limit", "many"}}).reply.code == 400);
}
