#include "broker/topic_acl.hpp"

#include <doctest/doctest.h>

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
  e.id = "x";
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
  CHECK(check_announcement(agent, announcement("heartbeat", "host1.mesh.test", "host1.mesh.test")) ==
        acl_decision::allow);
  CHECK(check_announcement(agent, announcement("heartbeat", "host1.mesh.test", "host2.mesh.test")) ==
        acl_decision::foreign_host);
  CHECK(check_announcement(agent, announcement("register", "host2.mesh.test", "host1.mesh.test")) ==
        acl_decision::foreign_host);
  CHECK(check_announcement(agent, announcement("create-container", "host1.mesh.test",
                                               "host1.mesh.test")) == acl_decision::bad_announcement);
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
