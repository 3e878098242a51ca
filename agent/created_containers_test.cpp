#include "agent/created_containers.hpp"

#include <doctest/doctest.h>

#include "agent/action_handlers.hpp"
#include "agent/recorded_docker.hpp"

using dockmesh::agent::created_containers;
using namespace std::chrono_literals;

namespace {

std::string id_of(char c) {
  return std::string(64, c);
}

}  // namespace

TEST_CASE("created_containers: a full id is found with its owner and name until the ttl") {
  created_containers cache(8, 120s);
  auto t0 = created_containers::clock::now();
  cache.add(id_of('a'), {"user-1", "web"}, t0);
  auto hit = cache.find(id_of('a'), t0 + 119s);
  REQUIRE(hit);
  CHECK(hit->owner == "user-1");
  CHECK(hit->name == "web");
  CHECK_FALSE(cache.find(id_of('a'), t0 + 121s));
}

TEST_CASE("created_containers: names, prefixes and other strings are never cached") {
  created_containers cache;
  cache.add("web", {"user-1", "web"});
  cache.add(id_of('a').substr(0, 12), {"user-1", "web"});
  cache.add(std::string(64, 'A'), {"user-1", "web"});
  CHECK_FALSE(cache.find("web"));
  CHECK_FALSE(cache.find(id_of('a').substr(0, 12)));
  CHECK_FALSE(cache.find(std::string(64, 'A')));
}

TEST_CASE("created_containers: the first report of an id stays, the oldest goes past capacity") {
  created_containers cache(2);
  cache.add(id_of('a'), {"user-1", "first"});
  cache.add(id_of('a'), {"user-2", "second"});
  CHECK(cache.find(id_of('a'))->owner == "user-1");
  cache.add(id_of('b'), {"user-1", "b"});
  cache.add(id_of('c'), {"user-1", "c"});
  CHECK_FALSE(cache.find(id_of('a')));
  CHECK(cache.find(id_of('b')));
  CHECK(cache.find(id_of('c')));
  cache.forget(id_of('b'));
  CHECK_FALSE(cache.find(id_of('b')));
}

TEST_CASE("name_created_containers: Docker's chosen name comes from the inventory read after") {
  using namespace dockmesh::agent;
  const std::string id = id_of('a');
  created_containers created;
  created.add(id, {"alice", ""});
  action_reply reply;
  reply.code = 201;
  reply.body = {{"containers", {{{"id", id}, {"name", ""}}}}, {"id", id}, {"name", ""}};
  std::vector<inventory_entry> inventory{
      {id, "eager_turing", "local/busybox", "created", "alice", 0, 0, "", ""}};
  testing::recorded_docker docker;
  name_created_containers(reply, &inventory, docker, &created);
  CHECK(reply.body["containers"][0]["name"] == "eager_turing");
  CHECK(reply.body["name"] == "eager_turing");
  CHECK(created.find(id)->name == "eager_turing");
  CHECK(docker.requests.empty());  // no inspect: the inventory had it
}

TEST_CASE("name_created_containers: without an inventory each unnamed container is inspected") {
  using namespace dockmesh::agent;
  const std::string id = id_of('b');
  action_reply reply{201,
                     {{"containers", {{{"id", id}, {"name", ""}}, {{"id", "x"}, {"name", "n"}}}}},
                     std::nullopt};
  testing::recorded_docker docker;
  name_created_containers(reply, nullptr, docker, nullptr);
  REQUIRE(docker.requests.size() == 1);  // only the one without a name
  CHECK(docker.requests[0].path == "/containers/" + id + "/json");
  CHECK(reply.body["containers"][0]["name"] != "");
  CHECK(reply.body["containers"][1]["name"] == "n");
  CHECK_FALSE(reply.body.contains("name"));
}

TEST_CASE("name_created_containers: an error reply without containers is left as it is") {
  using namespace dockmesh::agent;
  action_reply refused;  // a create refused before Docker was asked: no body at all
  refused.code = 400;
  refused.body = nullptr;
  std::vector<inventory_entry> inventory;
  testing::recorded_docker docker;
  name_created_containers(refused, &inventory, docker, nullptr);
  CHECK(refused.body.is_null());
  action_reply odd;
  odd.body = {{"containers", "not a list"}};
  name_created_containers(odd, &inventory, docker, nullptr);
  CHECK(odd.body == nlohmann::json{{"containers", "not a list"}});
  CHECK(docker.requests.empty());
}
