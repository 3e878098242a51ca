#include "ui-bridge/job_store.hpp"

#include <doctest/doctest.h>

#include "ui-bridge/test_support.hpp"

using namespace dockmesh::bridge;
using dockmesh::common::errc;
using namespace std::chrono_literals;

namespace {

void finish(job_store& js, const std::string& id, std::int64_t now) {
  REQUIRE(js.update(id, now, [](job& j) {
    j.state = job_state::done;
    j.status = 200;
  }));
}

}  // namespace

TEST_CASE("jobs are created running, updated, and read back") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  job_store js(kv, {10, 60s}, 0);
  auto j = js.create("create-container", "alice", 1000);
  REQUIRE(j.ok());
  CHECK(j->state == job_state::running);
  auto updated = js.update(j->id, 1500, [](job& x) { x.progress["stage"] = "sent"; });
  REQUIRE(updated);
  CHECK(updated->updated_ms == 1500);
  finish(js, j->id, 2000);
  auto got = js.get(j->id, 2000);
  REQUIRE(got);
  CHECK(got->state == job_state::done);
  CHECK(got->finished_ms == 2000);
  CHECK(got->progress["stage"] == "sent");
  // A finished job no longer changes.
  CHECK_FALSE(js.update(j->id, 2100, [](job& x) { x.state = job_state::failed; }));
}

TEST_CASE("a finished job expires ttl after it finished") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  job_store js(kv, {10, 60s}, 0);
  auto j = js.create("pull-image", "alice", 1000);
  REQUIRE(j.ok());
  CHECK(js.get(j->id, 1000 + 3600 * 1000));  // running jobs do not expire
  finish(js, j->id, 5000);
  CHECK(js.get(j->id, 5000 + 59999));
  CHECK_FALSE(js.get(j->id, 5000 + 60000));
  CHECK(js.size() == 0);
}

TEST_CASE("the store is bounded: the oldest finished job makes room, running ones never do") {
  test::temp_dir dir;
  rocks_kv_store kv(dir.path + "/db");
  job_store js(kv, {3, 3600s}, 0);
  auto a = js.create("k", "u", 1);
  auto b = js.create("k", "u", 2);
  auto c = js.create("k", "u", 3);
  REQUIRE((a.ok() && b.ok() && c.ok()));
  auto full = js.create("k", "u", 4);
  REQUIRE_FALSE(full.ok());
  CHECK(full.err().code == errc::unavailable);
  finish(js, b->id, 5);
  finish(js, c->id, 6);
  auto d = js.create("k", "u", 7);
  REQUIRE(d.ok());
  CHECK(js.size() == 3);
  CHECK_FALSE(js.get(b->id, 7));  // oldest finished went
  CHECK(js.get(c->id, 7));
  CHECK(js.get(a->id, 7));  // still running: kept
}

TEST_CASE("jobs survive a restart; those cut off while running come back failed") {
  test::temp_dir dir;
  std::string running_id, done_id;
  {
    rocks_kv_store kv(dir.path + "/db");
    job_store js(kv, {10, 3600s}, 0);
    running_id = js.create("create-container", "alice", 100)->id;
    done_id = js.create("pull-image", "bob", 200)->id;
    finish(js, done_id, 300);
  }
  rocks_kv_store kv(dir.path + "/db");
  job_store js(kv, {10, 3600s}, 1000);
  auto r = js.get(running_id, 1000);
  REQUIRE(r);
  CHECK(r->state == job_state::failed);
  CHECK(r->status == 503);
  REQUIRE(r->err);
  CHECK(r->err->message.find("restarted") != std::string::npos);
  auto d = js.get(done_id, 1000);
  REQUIRE(d);
  CHECK(d->state == job_state::done);
  CHECK(d->user == "bob");
}

TEST_CASE("a restart with a smaller bound trims the stored jobs") {
  test::temp_dir dir;
  {
    rocks_kv_store kv(dir.path + "/db");
    job_store js(kv, {10, 3600s}, 0);
    for (int i = 0; i < 8; ++i) finish(js, js.create("k", "u", i)->id, 100 + i);
  }
  rocks_kv_store kv(dir.path + "/db");
  job_store js(kv, {5, 3600s}, 1000);
  CHECK(js.size() == 5);
  CHECK(kv.scan("job/")->size() == 5);
}

TEST_CASE("stored jobs with wrongly typed fields load without throwing") {
  CHECK_NOTHROW((void)job_from_json(
      {{"id", "j"}, {"state", 5}, {"created", "x"}, {"error", {{"message", 1}}}}));
  auto j = job_from_json({{"id", "j"}, {"state", 5}, {"status", "x"}});
  REQUIRE(j);
  CHECK(j->state == job_state::failed);
  CHECK(j->status == 0);
}
