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
  return dockmesh::common::make_reply(req(id), "host1", code, nullptr);
}
}  // namespace

TEST_CASE("a retry gets the first answer; a retry while running is not started twice") {
  request_cache c;
  envelope cached;
  CHECK(c.begin(req("a"), &cached) == outcome::fresh);
  CHECK(c.begin(req("a", "alice", 1), &cached) == outcome::running);
  c.complete("a", reply_to("a", 201));
  CHECK(c.begin(req("a", "alice", 2), &cached) == outcome::answered);
  CHECK(cached.code == 201);
  CHECK(cached.re == "a");
  CHECK(c.begin(req("a", "mallory", 3), &cached) == outcome::foreign);
}

TEST_CASE("the cache is bounded, forgets finished requests first and never a running one") {
  request_cache c(3);
  envelope cached;
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

TEST_CASE("the cache is bounded in bytes: large replies push out old ones") {
  request_cache c(1000, 64 * 1024);
  envelope cached;
  for (int i = 0; i < 50; ++i) {
    std::string id = "big" + std::to_string(i);
    CHECK(c.begin(req(id), &cached) == outcome::fresh);
    envelope r = reply_to(id, 200);
    r.body = {{"blob", std::string(8 * 1024, 'x')}};
    c.complete(id, r);
    CHECK(c.bytes() <= 64 * 1024);
  }
  CHECK(c.size() < 10);
  CHECK(c.begin(req("big49"), &cached) == outcome::answered);
  CHECK(cached.body["blob"].get<std::string>().size() == 8 * 1024);
  CHECK(c.begin(req("big0"), &cached) == outcome::fresh);  // pushed out
  c.abandon("big49");
  CHECK(c.begin(req("big49"), &cached) == outcome::fresh);
}
