#include "agent/event_follower.hpp"

#include <doctest/doctest.h>

#include <sstream>

#include "agent/recorded_docker.hpp"

using namespace dockmesh::agent;
using nlohmann::json;

TEST_CASE("recorded Docker events become compact bodies; chatter is dropped") {
  std::istringstream in(testing::testdata("events_stream.jsonl"));
  std::vector<json> kept;
  std::string line;
  int total = 0;
  while (std::getline(in, line)) {
    ++total;
    if (auto b = event_body(json::parse(line))) kept.push_back(*b);
  }
  CHECK(total == 18);
  // network connect/disconnect and attach are not published; container and image events are.
  CHECK(kept.size() == 13);
  const json& create = kept[2];
  CHECK(create["type"] == "container");
  CHECK(create["action"] == "create");
  CHECK(create["name"] == "rec1");
  CHECK(create["owner"] == "alice");
  CHECK(create["image"] == "local/busybox");
  CHECK(changes_inventory(create));
  auto die =
      std::find_if(kept.begin(), kept.end(), [](const json& b) { return b["action"] == "die"; });
  REQUIRE(die != kept.end());
  CHECK((*die)["exit_code"] == "137");
  CHECK_FALSE(changes_inventory(kept[0]));  // an image event
}

TEST_CASE("event_body survives shapes Docker never sends") {
  for (json odd :
       {json(nullptr), json("x"), json::object(), json{{"Type", "container"}, {"Actor", 5}},
        json{{"Type", "container"}, {"Action", "start"}, {"Actor", {{"Attributes", "x"}}}}})
    CHECK_NOTHROW(event_body(odd));
  CHECK_FALSE(event_body(json{{"Type", "container"}, {"Action", "exec_start: sh"}}));
  // The inventory carries each container's health: a health change re-reads it.
  CHECK(changes_inventory(
      *event_body(json{{"Type", "container"}, {"Action", "health_status: healthy"}})));
}
