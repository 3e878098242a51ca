#include "agent/docker_calls.hpp"

#include <doctest/doctest.h>

#include "agent/recorded_docker.hpp"

using namespace dockmesh::agent;
using dockmesh::common::errc;
using nlohmann::json;

namespace {
action_request as(std::string user, std::string role) {
  return {"r", "inspect-container", user, role, {}};
}
}  // namespace

TEST_CASE("ownership: owners and admins pass; others, the unlabelled and the anonymous do not") {
  json alices = {{"dockmesh.owner", "alice"}};
  CHECK(check_owner(as("alice", "user"), alices, "c").ok());
  CHECK(check_owner(as("root", "admin"), alices, "c").ok());
  // Another user's container, an unlabelled one and a missing one all read "no container".
  auto bob = check_owner(as("bob", "user"), alices, "c");
  REQUIRE_FALSE(bob.ok());
  CHECK(bob.err().code == errc::not_found);
  CHECK(bob.err().message == "no container 'c'");
  auto unlabelled = check_owner(as("alice", "user"), json::object(), "c");
  CHECK(unlabelled.err().code == errc::not_found);
  CHECK(unlabelled.err().message == bob.err().message);
  CHECK(check_owner(as("alice", "user"), nullptr, "c").err().code == errc::not_found);
  CHECK(check_owner(as("root", "admin"), nullptr, "c").ok());
  CHECK(check_owner(as("root", "Admin"), nullptr, "c").err().code == errc::not_found);
  CHECK(check_owner(as("", "user"), {{"dockmesh.owner", ""}}, "c").err().code == errc::not_found);
  CHECK_FALSE(check_owner(as("alice", "user"), {{"dockmesh.owner", 5}}, "c").ok());
  CHECK(visible_to(as("alice", "user"), alices));
  CHECK_FALSE(visible_to(as("bob", "user"), alices));
}

TEST_CASE("load_owned_container checks the label Docker reports") {
  testing::recorded_docker docker;
  action_request alice = as("alice", "user"), bob = as("bob", "user");
  progress_sink none;
  agent_identity self{"h", {}, "v", {}};
  action_context a{alice, docker, nullptr, self, none};
  auto ok = load_owned_container(a, "rec1");
  REQUIRE(ok.ok());
  CHECK((*ok)["Name"] == "/rec1");
  CHECK(docker.requests.back().path == "/containers/rec1/json");
  action_context b{bob, docker, nullptr, self, none};
  auto other = load_owned_container(b, "rec1");
  CHECK(other.err().code == errc::not_found);
  CHECK(other.err().message == "no container 'rec1'");
  auto missing = load_owned_container(b, "nope");
  CHECK(missing.err().code == errc::not_found);
  CHECK(missing.err().message == "no container 'nope'");
}

TEST_CASE("to_valid_utf8 keeps UTF-8 and replaces everything else") {
  CHECK(to_valid_utf8("plain ascii\n") == "plain ascii\n");
  CHECK(to_valid_utf8("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x90\xb3") ==
        "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x90\xb3");
  CHECK(to_valid_utf8("a\xff"
                      "b") ==
        "a\xef\xbf\xbd"
        "b");
  CHECK(to_valid_utf8("\xc3") == "\xef\xbf\xbd");                                  // cut sequence
  CHECK(to_valid_utf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");                  // overlong '/'
  CHECK(to_valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  CHECK(to_valid_utf8(std::string("\0", 1)) == std::string("\0", 1));
  CHECK(json(to_valid_utf8("\x80\x81\xfe")).dump().size() > 0);  // never throws in dump()
}
