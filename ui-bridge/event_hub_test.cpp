#include "ui-bridge/event_hub.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace dockmesh::bridge;
using dockmesh::common::bus_message;

namespace {

bus_message event(std::string topic, std::string action, nlohmann::json body) {
  bus_message m;
  m.topic = std::move(topic);
  m.env.action = std::move(action);
  m.env.body = std::move(body);
  return m;
}

struct inbox {
  std::vector<nlohmann::json> got;
  event_sink sink() {
    return
        [this](std::shared_ptr<const std::string> t) { got.push_back(nlohmann::json::parse(*t)); };
  }
};

}  // namespace

TEST_CASE("host events reach everyone; container events only their owner and admins") {
  event_hub hub;
  inbox alice, bob, admin;
  hub.subscribe("alice", false, alice.sink());
  hub.subscribe("bob", false, bob.sink());
  hub.subscribe("root", true, admin.sink());
  hub.publish_bus(event("dir/", "host-up", {{"fqdn", "h1"}, {"status", "up"}}));
  hub.publish_bus(event("evt/host/h1/", "docker-event",
                        {{"type", "container"},
                         {"action", "start"},
                         {"id", "abc"},
                         {"attributes", {{"dockmesh.owner", "alice"}}}}));
  CHECK(alice.got.size() == 2);
  CHECK(bob.got.size() == 1);
  CHECK(admin.got.size() == 2);
  CHECK(alice.got[1]["type"] == "event");
  CHECK(alice.got[1]["topic"] == "evt/host/h1/");
}

TEST_CASE("an event without an owner uses the owner learnt from the directory") {
  event_hub hub;
  inbox alice, bob;
  hub.subscribe("alice", false, alice.sink());
  hub.subscribe("bob", false, bob.sink());
  hub.publish_bus(
      event("dir/", "container-added", {{"container", {{"id", "abc"}, {"owner", "alice"}}}}));
  CHECK(hub.known_owner("abc") == "alice");
  hub.publish_bus(event("evt/host/h1/", "docker-event",
                        {{"type", "container"}, {"action", "die"}, {"id", "abc"}}));
  CHECK(alice.got.size() == 2);
  CHECK(bob.got.empty());
  // Unknown owner: admins only.
  hub.publish_bus(event("evt/host/h1/", "docker-event",
                        {{"type", "container"}, {"action", "die"}, {"id", "zzz"}}));
  CHECK(alice.got.size() == 2);
  CHECK(bob.got.empty());
  hub.publish_bus(event("dir/", "container-removed", {{"container", {{"id", "abc"}}}}));
  CHECK_FALSE(hub.known_owner("abc"));
}

TEST_CASE("job updates go to the job's user only; unsubscribed sessions get nothing") {
  event_hub hub;
  inbox alice, bob;
  auto a = hub.subscribe("alice", false, alice.sink());
  hub.subscribe("bob", true, bob.sink());
  job j;
  j.id = "j1";
  j.user = "alice";
  hub.publish_job(j);
  CHECK(alice.got.size() == 1);
  CHECK(alice.got[0]["job"]["id"] == "j1");
  CHECK(bob.got.empty());
  hub.unsubscribe(a);
  hub.publish_job(j);
  CHECK(alice.got.size() == 1);
  CHECK(hub.subscribers() == 1);
}

TEST_CASE("the owner cache is bounded") {
  event_hub hub(10);
  for (int i = 0; i < 100; ++i)
    hub.publish_bus(event(
        "dir/", "container-added",
        {{"container", {{"id", std::string("c").append(std::to_string(i))}, {"owner", "u"}}}}));
  CHECK_FALSE(hub.known_owner("c0"));
  CHECK(hub.known_owner("c99") == "u");
}

TEST_CASE("agent docker-events: owner from the body, destroy forgets the container") {
  event_hub hub;
  inbox alice, bob;
  hub.subscribe("alice", false, alice.sink());
  hub.subscribe("bob", false, bob.sink());
  hub.publish_bus(
      event("evt/host/h1/", "docker-event",
            {{"type", "container"}, {"action", "start"}, {"id", "c1"}, {"owner", "alice"}}));
  hub.publish_bus(event("evt/host/h1/", "docker-event",
                        {{"type", "image"}, {"action", "pull"}, {"id", "busybox"}}));
  CHECK(alice.got.size() == 1);
  CHECK(bob.got.size() == 0);  // image events name no owner: admins only
  CHECK(hub.known_owner("c1") == "alice");
  hub.publish_bus(
      event("evt/host/h1/", "docker-event",
            {{"type", "container"}, {"action", "destroy"}, {"id", "c1"}, {"owner", "alice"}}));
  CHECK_FALSE(hub.known_owner("c1"));
  hub.publish_bus(event("dir/", "broker-heartbeat", {{"broker", 1}}));
  CHECK(alice.got.size() == 2);
}

TEST_CASE("pull progress reaches the puller and admins only; image events admins only") {
  event_hub hub;
  inbox alice, bob, admin;
  hub.subscribe("alice", false, alice.sink());
  hub.subscribe("bob", false, bob.sink());
  hub.subscribe("root", true, admin.sink());
  auto progress =
      event("evt/host/h1/", "pull-progress",
            {{"request", "r1"}, {"image", "localhost:5000/x:1"}, {"status", "Pulling"}});
  progress.env.user = "alice";
  hub.publish_bus(progress);
  hub.publish_bus(event("evt/host/h1/", "docker-event",
                        {{"type", "image"}, {"action", "pull"}, {"id", "localhost:5000/x:1"}}));
  auto anonymous = progress;
  anonymous.env.user.clear();
  hub.publish_bus(anonymous);
  CHECK(alice.got.size() == 1);
  CHECK(bob.got.empty());
  CHECK(admin.got.size() == 3);
}
