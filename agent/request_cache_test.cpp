#include "agent/request_cache.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::agent;
using dockmesh::common::envelope;
using outcome = request_cache::outcome;

namespace {
envelope req(const std::string& id, const std::string& user = "alice", int attempt = 0) {
  envelope e;
  e.id = id;
  e.user = user;
  e.role = "user";
  e.attempt = attempt;
  return e;
}
envelope reply_to(const std::string& id, int code) {
  envelope r;
  r.re = id;
  r.code = code;
  return r;
}
}  // namespace

TEST_CASE("a retry gets the first answer; a retry while running is not started twice") {
  request_cache c;
  const envelope* cached = nullptr;
  CHECK(c.begin(req("a"), &cached) == outcome::fresh);
  CHECK(c.begin(req("a", "alice", 1), &cached) == outcome::running);
  c.complete("a", reply_to("a", 201));
  CHECK(c.begin(req("a", "alice", 2), &cached) == outcome::answered);
  REQUIRE(cached);
  CHECK(cached->code == 201);
  CHECK(c.begin(req("a", "mallory", 3), &cached) == outcome::foreign);
}

TEST_CASE("the cache is bounded, forgets finished requests first and never a running one") {
  request_cache c(3);
  const envelope* cached = nullptr;
  CHECK(c.begin(req("running"), &cached) == outcome::fresh);
  for (int i = 0; i < 10; ++i) {
    std::string id = "done" + std::to_string(i);
    CHECK(c.begin(req(id), &cached) == outcome::fresh);
    c.complete(id, reply_to(id, 200));
  }
  CHECK(c.size() <= 4);
  CHECK(c.begin(req("running"), &cached) == outcome::running);
  CHECK(c.begin(req("done9"), &cached) == outcome::answered);
  CHECK(c.begin(req("done0"), &cached) == outcome::fresh);  // forgotten
  c.abandon("done0");
  CHECK(c.begin(req("done0"), &cached) == outcome::fresh);
}
