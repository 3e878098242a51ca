#include "agent/host_state.hpp"

#include <doctest/doctest.h>

#include "agent/recorded_docker.hpp"

using namespace dockmesh::agent;
using nlohmann::json;

TEST_CASE("host facts from recorded /info and /version") {
  testing::recorded_docker docker;
  auto f = read_host_facts(docker);
  REQUIRE(f.ok());
  CHECK(f->docker_version == "20.10.24+dfsg1");
  CHECK(f->api_version == "1.41");
  CHECK(f->cpus == 2);
  CHECK(f->memory_bytes == 25276518400);
  CHECK(f->os == "Debian GNU/Linux 12 (bookworm)");
  CHECK(f->storage_driver == "overlay2");
  CHECK(f->containers_running == 1);
  json j = to_json(*f);
  auto back = facts_from_json(j);
  CHECK(to_json(back) == j);
  CHECK(facts_from_json("garbage").cpus == 0);
}

TEST_CASE("inventory from the recorded list, memory limits from inspect, cached by id") {
  testing::recorded_docker docker;
  inventory_reader reader;
  auto inv = reader.read(docker);
  REQUIRE(inv.ok());
  REQUIRE(inv->size() == 1);
  const auto& e = (*inv)[0];
  CHECK(e.name == "rec1");
  CHECK(e.owner == "alice");
  CHECK(e.state == "running");
  CHECK(e.memory_limit == 67108864);
  std::size_t inspects = docker.count(http_method::get, "/containers/075d");
  CHECK(inspects == 1);
  REQUIRE(reader.read(docker).ok());
  CHECK(docker.count(http_method::get, "/containers/075d") == inspects);  // cached
  CHECK(inventory_from_json(to_json(*inv)) == *inv);
}

TEST_CASE("the inventory digest changes with the inventory and only with it") {
  std::vector<inventory_entry> a{{"id1", "web", "img", "running", "alice", 1, 0, "", ""}};
  auto b = a;
  CHECK(inventory_digest(a) == inventory_digest(b));
  CHECK(inventory_digest(a).size() == 16);
  b[0].state = "exited";
  CHECK(inventory_digest(a) != inventory_digest(b));
  CHECK(inventory_digest({}) != inventory_digest(a));
}

TEST_CASE("host record has the fields of docs/architecture.md") {
  announcement_state s;
  s.incarnation = 1700000000000;
  s.sequence = 7;
  s.docker_up = true;
  s.facts.docker_version = "20.10.24";
  s.inventory = {{"a", "x", "i", "running", "", 0, 0, "", ""},
                 {"b", "y", "i", "exited", "", 0, 0, "", ""}};
  s.have_inventory = true;
  agent_identity self{"host1.mesh.test", {{"zone", "a"}}, "0.1.0", {}};
  json r = host_record(self, s);
  for (const char* k : {"fqdn", "incarnation", "sequence", "docker_up", "docker_version",
                        "api_version", "cpus", "memory_bytes", "labels", "containers_running",
                        "containers_total", "inventory_digest", "agent_version", "os", "kernel"})
    CHECK_MESSAGE(r.contains(k), k);
  CHECK(r["containers_running"] == 1);
  CHECK(r["containers_total"] == 2);
  CHECK(r["labels"]["zone"] == "a");
  json inv = inventory_record(self, s);
  CHECK(inv["containers"].size() == 2);
  for (const char* k : {"id", "name", "image", "state", "created", "owner", "memory_limit"})
    CHECK(inv["containers"][0].contains(k));
}

TEST_CASE("apply_state_patch: sets one entry's state, and says when the id is unknown") {
  using dockmesh::agent::apply_state_patch;
  std::vector<dockmesh::agent::inventory_entry> inv(2);
  inv[0].id = "aaa";
  inv[0].state = "created";
  inv[1].id = "bbb";
  inv[1].state = "exited";
  CHECK(apply_state_patch(inv, {{"id", "aaa"}, {"state", "running"}}));
  CHECK(inv[0].state == "running");
  CHECK(inv[1].state == "exited");
  CHECK_FALSE(apply_state_patch(inv, {{"id", "ccc"}, {"state", "running"}}));
  CHECK_FALSE(apply_state_patch(inv, {{"state", "running"}}));  // no id: nothing matches
  CHECK(inv[1].state == "exited");
}

TEST_CASE("the inventory reads each container's health from Docker's status line") {
  auto entries =
      entries_from_list(json::array({{{"Id", "a"}, {"Status", "Up 3 seconds (healthy)"}},
                                     {{"Id", "b"}, {"Status", "Up 1 second (health: starting)"}},
                                     {{"Id", "c"}, {"Status", "Up 9 seconds (unhealthy)"}},
                                     {{"Id", "d"}, {"Status", "Up 9 seconds"}}}));
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].health == "healthy");
  CHECK(entries[1].health == "starting");
  CHECK(entries[2].health == "unhealthy");
  CHECK(entries[3].health.empty());
  CHECK(inventory_from_json(to_json(entries)) == entries);
  CHECK_FALSE(to_json(entries)[3].contains("health"));
}
