#include "common/bus_identity.hpp"

#include <doctest/doctest.h>

#include "common/curve_keys.hpp"
#include "common/topic.hpp"

using namespace dockmesh::common;

TEST_CASE("a key-bound client id names its key; an agent's id is its fqdn") {
  auto keys = generate_keypair();
  std::string hex = public_key_hex(keys.public_key);
  CHECK(hex.size() == 64);
  auto id = key_bound_client_id("ctl-12ab", keys.public_key);
  REQUIRE(id);
  CHECK(*id == "ctl-12ab_" + hex);
  CHECK(valid_segment(*id));
  CHECK(client_id_key(*id) == hex);
  CHECK(client_id_key("host1.mesh.test").empty());
  CHECK(client_id_key("x_" + std::string(64, 'G')).empty());
  CHECK_FALSE(key_bound_client_id("a_b", keys.public_key));
  CHECK_FALSE(key_bound_client_id("ctl", "not a key"));
  CHECK(public_key_hex("short").empty());

  CHECK(owns_client_id("bridge:bridge", keys.public_key, *id));
  CHECK_FALSE(owns_client_id("bridge:bridge", generate_keypair().public_key, *id));
  CHECK(owns_client_id("agent:host1.mesh.test", keys.public_key, "host1.mesh.test"));
  CHECK_FALSE(owns_client_id("agent:host2.mesh.test", keys.public_key, "host1.mesh.test"));
  CHECK_FALSE(owns_client_id("admin:host1.mesh.test", keys.public_key, "host1.mesh.test"));
}

TEST_CASE("a reply counts only when stamped by the identity the request addressed") {
  envelope r;
  r.re = "x";
  r.from = "h1";
  CHECK(reply_stamp_accepted("req/host/h1/", "agent:h1", r));
  CHECK_FALSE(reply_stamp_accepted("req/host/h1/", "agent:h2", r));
  CHECK_FALSE(reply_stamp_accepted("req/host/h1/", "", r));
  CHECK(reply_stamp_accepted("req/host/h1/", "broker:broker", r));  // fail-fast answers
  CHECK(reply_stamp_accepted("req/all/", "agent:h1", r));
  CHECK_FALSE(reply_stamp_accepted("req/all/", "agent:h2", r));  // h2 claiming to be h1
  CHECK(reply_stamp_accepted("req/any/", "broker:broker", r));
  CHECK(reply_stamp_accepted("req/any/", "agent:h1", r));
  CHECK_FALSE(reply_stamp_accepted("req/any/", "agent:h2", r));
  CHECK_FALSE(reply_stamp_accepted("req/any/", "bridge:bridge", r));
  CHECK_FALSE(reply_stamp_accepted("rep/x/", "agent:h1", r));
}

TEST_CASE("peek_envelope reads from and re without the body") {
  envelope e;
  e.id = "r1";
  e.re = "q1";
  e.from = "h1";
  e.code = 200;
  e.body = {{"logs", std::string(10000, 'x')}};
  auto p = peek_envelope(encode(e));
  REQUIRE(p);
  CHECK(p->from == "h1");
  CHECK(p->re == "q1");
  CHECK_FALSE(peek_envelope("\xc1 not msgpack"));
  CHECK_FALSE(peek_envelope(std::string("\x93\x01\x02\x03", 4)));  // an array
}
