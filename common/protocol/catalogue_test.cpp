#include "common/protocol/catalogue.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

using namespace dockmesh::common::protocol;

TEST_CASE("the built-in catalogue: 21 agent actions, one alias, every kind present") {
  const auto& cat = catalogue::builtin();
  auto actions = cat.of_kind(message_kind::agent_action);
  CHECK(actions.size() == 21);
  CHECK(opens_stream(names::exec_start));
  CHECK(cat.find(names::exec_start)->changes_state);  // audited
  CHECK(opens_stream(names::follow_logs));
  CHECK(opens_stream(names::follow_stats));
  CHECK_FALSE(opens_stream(names::container_logs));
  CHECK(cat.find(names::stream_credit, message_kind::stream)->senders.has(role::bridge));
  CHECK_FALSE(cat.find(names::stream_data)->senders.has(role::bridge));
  int aliases = 0;
  for (const auto* a : actions) {
    CAPTURE(a->name);
    CHECK(a->senders == role_set{role::bridge, role::admin});
    CHECK(a->target != message_target::none);
    CHECK(a->timeout.count() > 0);
    CHECK_FALSE(a->body_schema.empty());
    if (!a->alias_of.empty()) ++aliases;
  }
  CHECK(aliases == 1);
  const auto* del = cat.find(names::delete_container);
  REQUIRE(del);
  CHECK(&cat.canonical(*del) == cat.find(names::remove_container));
  CHECK(cat.find(names::remove_image)->admin_only);
  CHECK(cat.find(names::create_container)->target == message_target::scheduled);
  CHECK(cat.of_kind(message_kind::control_call).size() ==
        29);  // 13 + 9 project/service calls + 4 host policy and quota calls + 3 team calls
  // The one call between brokers: no user, agent or bridge key may ask for the whole directory.
  CHECK(cat.find(names::directory_snapshot, message_kind::control_call)->senders ==
        role_set{role::broker});
  CHECK(cat.find(names::audit, message_kind::control_call)->senders ==
        role_set{role::admin, role::bridge});
  CHECK_FALSE(cat.find(names::audit)->senders.has(role::agent));
  CHECK(cat.of_kind(message_kind::announcement).size() == 4);
  CHECK(cat.find(names::heartbeat, message_kind::announcement)->senders.has(role::agent));
  CHECK_FALSE(cat.find(names::heartbeat)->senders.has(role::bridge));
  CHECK(cat.find(names::keys_revoke)->admin_only);
  CHECK_FALSE(cat.find(names::hosts)->admin_only);
  CHECK(cat.find(names::hosts)->senders.has(role::bridge));
  CHECK(is_host_directory_event(names::host_down));
  CHECK_FALSE(is_host_directory_event(names::container_added));
  CHECK_FALSE(is_host_directory_event(names::heartbeat));
  CHECK(cat.find("no-such-message") == nullptr);
  CHECK(cat.find(names::ping, message_kind::control_call) == nullptr);
}

TEST_CASE("a catalogue refuses a name defined twice and an alias of nothing") {
  auto twice = builtin_messages();
  twice.push_back(twice.front());
  CHECK_THROWS_AS(catalogue{twice}, std::invalid_argument);
  auto orphan = builtin_messages();
  message_spec a;
  a.name = "drop-container";
  a.alias_of = "no-such-action";
  orphan.push_back(a);
  CHECK_THROWS_AS(catalogue{orphan}, std::invalid_argument);
}

TEST_CASE("the catalogue as JSON names every entry with its kind, senders and schemas") {
  auto j = to_json(catalogue::builtin());
  CHECK(j["version"] == 1);
  REQUIRE(j["messages"].size() == catalogue::builtin().entries().size());
  std::set<std::string> seen;
  for (const auto& m : j["messages"]) seen.insert(m["name"].get<std::string>());
  CHECK(seen.size() == j["messages"].size());
  auto ping = std::find_if(j["messages"].begin(), j["messages"].end(),
                           [](const auto& m) { return m["name"] == names::ping; });
  REQUIRE(ping != j["messages"].end());
  CHECK((*ping)["kind"] == "agent-action");
  CHECK((*ping)["target"] == "host");
  CHECK((*ping)["senders"] == nlohmann::json{"bridge", "admin"});
  CHECK((*ping)["timeout_ms"] == 10000);
  CHECK((*ping)["reply_schema"] == "ping.reply");
}

TEST_CASE("roles print and parse; pending and unknown are no key roles") {
  for (role r : {role::agent, role::bridge, role::admin, role::broker})
    CHECK(parse_key_role(to_string(r)) == r);
  CHECK_FALSE(parse_key_role("pending"));
  CHECK_FALSE(parse_key_role("root"));
  role_set s{role::agent};
  CHECK(s.has(role::agent));
  CHECK_FALSE(s.has(role::admin));
  CHECK(role_set{}.empty());
}

TEST_CASE("docs/protocol.md describes every message of the catalogue") {
  std::ifstream in(DOCKMESH_SOURCE_DIR "/docs/protocol.md");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& e : catalogue::builtin().entries()) {
    CAPTURE(e.name);
    CHECK(text.str().find("`" + e.name + "`") != std::string::npos);
  }
}
