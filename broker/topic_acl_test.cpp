#include "broker/topic_acl.hpp"

#include <doctest/doctest.h>

#include "common/bus_identity.hpp"
#include "common/curve_keys.hpp"

using namespace dockmesh;
using namespace dockmesh::broker;

namespace {

acl_decision on(const identity& who, std::string_view topic) {
  topic_view t;
  if (!classify_topic(topic, t)) return acl_decision::malformed_topic;
  return check_publish(who, t);
}

const identity agent{role::agent, "host1.mesh.test"};
const identity bridge{role::bridge, "bridge"};
const identity admin{role::admin, "admin"};
const identity pending{role::pending, "KEY"};
const identity broker_peer{role::broker, "broker"};

common::envelope announcement(const char* action, const char* from, const char* fqdn) {
  common::envelope e;
  e.id = std::string("x");  // move-assigned: GCC 12 -O3 warns (-Wrestrict, a false positive) on
                            // assigning the literal
  e.action = action;
  e.from = from;
  e.body = {{"fqdn", fqdn}, {"incarnation", 1}, {"sequence", 1}};
  return e;
}

}  // namespace

TEST_CASE("classify_topic accepts exactly the topic shapes of the design") {
  topic_view t;
  CHECK(classify_topic("ann/", t));
  CHECK(t.kind == common::topic_kind::ann);
  CHECK(classify_topic("req/host/host1.mesh.test/", t));
  CHECK(t.kind == common::topic_kind::req_host);
  CHECK(t.name == "host1.mesh.test");
  CHECK(classify_topic("rep/ctl-1234/", t));
  CHECK(t.name == "ctl-1234");
  for (auto bad : {"", "ann", "ann/x", "req/host/", "req/host//", "req/host/a", "req/host/a/b/",
                   "rep/../", "evt/host/-x/", "dir/x/", "zzz/", "req/any", "req/host/a b/"})
    CHECK_MESSAGE(!classify_topic(bad, t), bad);
}

TEST_CASE("agents publish only their own announcements, events and replies") {
  CHECK(on(agent, "ann/") == acl_decision::allow);
  CHECK(on(agent, "evt/host/host1.mesh.test/") == acl_decision::allow);
  CHECK(on(agent, "evt/host/host2.mesh.test/") == acl_decision::foreign_host);
  CHECK(on(agent, "rep/ctl-1/") == acl_decision::allow);
  CHECK(on(agent, "req/host/host2.mesh.test/") == acl_decision::forbidden_topic);
  CHECK(on(agent, "req/host/host1.mesh.test/") == acl_decision::forbidden_topic);
  CHECK(on(agent, "req/any/") == acl_decision::forbidden_topic);
  CHECK(on(agent, "req/all/") == acl_decision::forbidden_topic);
  CHECK(on(agent, "dir/") == acl_decision::forbidden_topic);
}

TEST_CASE("bridge and admin requests; only admin broadcasts") {
  for (const auto* who : {&bridge, &admin}) {
    CHECK(on(*who, "req/any/") == acl_decision::allow);
    CHECK(on(*who, "req/host/h1/") == acl_decision::allow);
    CHECK(on(*who, "rep/bridge-1/") == acl_decision::allow);
    CHECK(on(*who, "ann/") == acl_decision::forbidden_topic);
    CHECK(on(*who, "evt/host/h1/") == acl_decision::forbidden_topic);
    CHECK(on(*who, "dir/") == acl_decision::forbidden_topic);
  }
  CHECK(on(bridge, "req/all/") == acl_decision::forbidden_topic);
  CHECK(on(admin, "req/all/") == acl_decision::allow);
}

TEST_CASE("pending, unknown and peer-broker identities") {
  CHECK(on(pending, "rep/x/") == acl_decision::forbidden_topic);
  CHECK(on(identity{}, "rep/x/") == acl_decision::forbidden_topic);
  CHECK(on(broker_peer, "rep/broker-2/") == acl_decision::allow);
  CHECK(on(broker_peer, "req/any/") == acl_decision::forbidden_topic);
  CHECK(on(broker_peer, "ann/") == acl_decision::forbidden_topic);
}

TEST_CASE("announcements must speak for the sender's own fqdn") {
  CHECK(check_announcement(agent, announcement("heartbeat", "host1.mesh.test",
                                               "host1.mesh.test")) == acl_decision::allow);
  CHECK(check_announcement(agent, announcement("heartbeat", "host1.mesh.test",
                                               "host2.mesh.test")) == acl_decision::foreign_host);
  CHECK(check_announcement(agent, announcement("register", "host2.mesh.test", "host1.mesh.test")) ==
        acl_decision::foreign_host);
  CHECK(check_announcement(
            agent, announcement("create-container", "host1.mesh.test", "host1.mesh.test")) ==
        acl_decision::bad_announcement);
  auto no_body = announcement("heartbeat", "host1.mesh.test", "host1.mesh.test");
  no_body.body = nullptr;
  CHECK(check_announcement(agent, no_body) == acl_decision::bad_announcement);
  auto numeric = no_body;
  numeric.body = {{"fqdn", 7}};
  CHECK(check_announcement(agent, numeric) == acl_decision::bad_announcement);
  CHECK(check_announcement(admin, announcement("heartbeat", "admin", "admin")) ==
        acl_decision::forbidden_topic);
}

TEST_CASE("user ids parse back into identities") {
  CHECK(parse_user_id("agent:host1.mesh.test") == identity{role::agent, "host1.mesh.test"});
  CHECK(parse_user_id("pending:abc") == identity{role::pending, "abc"});
  CHECK(parse_user_id("admin:") == identity{});
  CHECK(parse_user_id("root:x") == identity{});
  CHECK(parse_user_id("") == identity{});
  CHECK(identity{role::bridge, "b"}.user_id() == "bridge:b");
}

TEST_CASE("subscribe ACL: an agent reads only its own requests, broadcasts and replies") {
  const std::string key = common::generate_keypair().public_key;
  auto sub = [&](const identity& who, std::string_view prefix) {
    return check_subscribe(who, key, prefix);
  };
  CHECK(sub(agent, "req/host/host1.mesh.test/") == acl_decision::allow);
  CHECK(sub(agent, "req/host/host1.mesh.test/more") == acl_decision::allow);  // narrower
  CHECK(sub(agent, "req/all/") == acl_decision::allow);
  CHECK(sub(agent, "rep/host1.mesh.test/") == acl_decision::allow);
  CHECK(sub(agent, "") == acl_decision::forbidden_topic);
  CHECK(sub(agent, "req/") == acl_decision::forbidden_topic);
  CHECK(sub(agent, "req/host/") == acl_decision::foreign_host);
  CHECK(sub(agent, "req/host/host1.mesh.test") == acl_decision::foreign_host);  // matches ...testX/
  CHECK(sub(agent, "req/host/host2.mesh.test/") == acl_decision::foreign_host);
  CHECK(sub(agent, "req/any/") == acl_decision::forbidden_topic);
  CHECK(sub(agent, "rep/") == acl_decision::foreign_reply);
  CHECK(sub(agent, "rep/host2.mesh.test/") == acl_decision::foreign_reply);
  CHECK(sub(agent, "rep/ctl-1_" + common::public_key_hex(key) + "/") == acl_decision::allow);
  CHECK(sub(agent, "rep/ctl-1_" + std::string(64, 'a') + "/") == acl_decision::foreign_reply);
  CHECK(sub(agent, "evt/") == acl_decision::forbidden_topic);
  CHECK(sub(agent, "ann/") == acl_decision::forbidden_topic);
  CHECK(sub(agent, "dir/") == acl_decision::forbidden_topic);
}

TEST_CASE("subscribe ACL: bridge, admin, peer broker, pending") {
  const std::string key = common::generate_keypair().public_key;
  const std::string mine = "rep/bridge-1_" + common::public_key_hex(key) + "/";
  auto sub = [&](const identity& who, std::string_view prefix) {
    return check_subscribe(who, key, prefix);
  };
  CHECK(sub(bridge, "dir/") == acl_decision::allow);
  CHECK(sub(bridge, "evt/") == acl_decision::allow);
  CHECK(sub(bridge, "evt/host/h1/") == acl_decision::allow);
  CHECK(sub(bridge, mine) == acl_decision::allow);
  CHECK(sub(bridge, "") == acl_decision::forbidden_topic);
  CHECK(sub(bridge, "req/host/h1/") == acl_decision::forbidden_topic);
  CHECK(sub(bridge, "ann/") == acl_decision::forbidden_topic);
  CHECK(sub(bridge, "rep/bridge-1/") == acl_decision::foreign_reply);  // an agent's topic
  CHECK(sub(bridge, "rep/ctl-1_" + std::string(64, 'b') + "/") == acl_decision::foreign_reply);
  CHECK(sub(admin, "") == acl_decision::allow);
  CHECK(sub(admin, "rep/") == acl_decision::allow);
  CHECK(sub(broker_peer, "dir/") == acl_decision::allow);
  CHECK(sub(broker_peer, "") == acl_decision::forbidden_topic);
  CHECK(sub(pending, "dir/") == acl_decision::forbidden_topic);
}

TEST_CASE("an agent replies only as itself") {
  CHECK(check_reply_sender(agent, "host1.mesh.test") == acl_decision::allow);
  CHECK(check_reply_sender(agent, "host2.mesh.test") == acl_decision::forged_sender);
  CHECK(check_reply_sender(agent, "") == acl_decision::forged_sender);
  CHECK(check_reply_sender(bridge, "anything") == acl_decision::allow);
}
