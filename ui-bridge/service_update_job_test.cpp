#include "ui-bridge/service_update_job.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::bridge;
using nlohmann::json;

namespace {

// A job as job_runner starts it after a PATCH that made generation 2 of a 3-replica service.
job started(std::int64_t deadline = 1'000'000) {
  job j;
  j.id = "j1";
  j.kind = std::string(service_update_kind);
  j.progress = update_progress(
      {{"id", "s1"}, {"generation", 2}, {"spec", {{"image", "busybox"}, {"replicas", 3}}}},
      deadline);
  return j;
}

json record(std::int64_t generation, json update) {
  return {{"id", "s1"}, {"generation", generation}, {"status", {{"update", std::move(update)}}}};
}

json status_update(const char* state, std::int64_t generation, int updated, json error = nullptr) {
  return {{"state", state},
          {"generation", generation},
          {"updated", updated},
          {"replicas", 3},
          {"error", std::move(error)}};
}

json step(const char* name, std::int64_t generation, json extra = json::object()) {
  json e = {{"service", "s1"}, {"owner", "u1"}, {"step", name}, {"generation", generation}};
  e.update(extra);
  return e;
}

}  // namespace

TEST_CASE("a service-update job starts at the PATCH's generation with the deadline") {
  auto j = started(5000);
  CHECK(j.progress["service"] == "s1");
  CHECK(j.progress["generation"] == 2);
  CHECK(j.progress["state"] == "updating");
  CHECK(j.progress["updated"] == 0);
  CHECK(j.progress["replicas"] == 3);
  CHECK(j.progress["deadline"] == 5000);
  CHECK(j.state == job_state::running);
}

TEST_CASE("polled status: progress while updating, done when the broker says done") {
  auto j = started();
  apply_service_status(j, record(2, status_update("updating", 2, 1)));
  CHECK(j.state == job_state::running);
  CHECK(j.progress["updated"] == 1);
  // An older record (a broker that has not seen the PATCH yet) changes nothing.
  apply_service_status(j, record(1, status_update("done", 1, 3)));
  CHECK(j.state == job_state::running);
  CHECK(j.progress["updated"] == 1);
  // `done` with fewer running than wanted (the broker says done once no older replica is left,
  // e.g. before the first replica of a new service exists) is not the end yet.
  apply_service_status(j, record(2, status_update("done", 2, 2)));
  CHECK(j.state == job_state::running);
  CHECK(j.progress["updated"] == 2);
  apply_service_status(j, record(2, status_update("done", 2, 3)));
  CHECK(j.state == job_state::done);
  CHECK(j.status == 200);
  CHECK(j.result["state"] == "done");
  CHECK(j.result["updated"] == 3);
  CHECK_FALSE(j.result.contains("deadline"));
  // Finished is final.
  apply_service_status(j, record(3, status_update("updating", 3, 0)));
  CHECK(j.state == job_state::done);
}

TEST_CASE("polled status: rolled back (a new generation goes back) fails with the error") {
  auto j = started();
  json update = status_update("rolled-back", 3, 3, "replica 4 exited (code 3)");
  update["failed_generation"] = 2;
  apply_service_status(j, record(3, update));
  CHECK(j.state == job_state::failed);
  CHECK(j.status == 409);
  REQUIRE(j.err);
  CHECK(j.err->message == "rolled back: replica 4 exited (code 3)");
  CHECK(j.progress["state"] == "rolled-back");
  CHECK(j.progress["failed_generation"] == 2);
  CHECK(j.progress["rollback_generation"] == 3);
}

TEST_CASE("polled status: paused fails with the error; a newer generation supersedes") {
  auto paused = started();
  apply_service_status(paused, record(2, status_update("paused", 2, 2, "no such image")));
  CHECK(paused.state == job_state::failed);
  CHECK(paused.err->message == "paused: no such image");
  CHECK(paused.progress["state"] == "paused");

  auto newer = started();
  apply_service_status(newer, record(3, status_update("updating", 3, 0)));
  CHECK(newer.state == job_state::failed);
  CHECK(newer.err->message == "superseded by generation 3");
  // A rollback of another generation is a newer generation too.
  auto other = started();
  json update = status_update("rolled-back", 4, 3, "boom");
  update["failed_generation"] = 3;
  apply_service_status(other, record(4, update));
  CHECK(other.err->message == "superseded by generation 4");
}

TEST_CASE("reconcile events: batches count, update-done ends it, other services are ignored") {
  auto j = started();
  apply_reconcile_step(j, step("update-batch", 2, {{"batch", 1}, {"updated", 0}, {"replicas", 3}}));
  apply_reconcile_step(j, step("update-batch", 2, {{"batch", 1}, {"updated", 1}, {"replicas", 3}}));
  CHECK(j.progress["batches"] == 2);
  CHECK(j.progress["updated"] == 1);
  // Per-replica steps, an older generation's late step and another service change nothing.
  apply_reconcile_step(j, step("remove", 2, {{"reason", "updated"}}));
  apply_reconcile_step(j, step("update-batch", 1, {{"updated", 3}}));
  json elsewhere = step("update-done", 2);
  elsewhere["service"] = "s2";
  apply_reconcile_step(j, elsewhere);
  CHECK(j.state == job_state::running);
  CHECK(j.progress["updated"] == 1);
  apply_reconcile_step(j, step("update-done", 2, {{"updated", 3}, {"replicas", 3}}));
  CHECK(j.state == job_state::done);
  CHECK(j.result["updated"] == 3);
}

TEST_CASE("reconcile events: rollback of this generation, paused, superseded") {
  auto back = started();
  apply_reconcile_step(back, step("rollback", 3, {{"failed_generation", 2}, {"error", "exited"}}));
  CHECK(back.state == job_state::failed);
  CHECK(back.err->message == "rolled back: exited");

  auto paused = started();
  apply_reconcile_step(paused, step("update-paused", 2, {{"error", "unhealthy"}}));
  CHECK(paused.err->message == "paused: unhealthy");

  auto newer = started();
  apply_reconcile_step(newer, step("update-batch", 5, {{"updated", 0}}));
  CHECK(newer.state == job_state::failed);
  CHECK(newer.err->message == "superseded by generation 5");
}

TEST_CASE("a job past its deadline fails; a deleted service fails") {
  auto j = started(5000);
  check_update_deadline(j, 4999);
  CHECK(j.state == job_state::running);
  check_update_deadline(j, 5000);
  CHECK(j.state == job_state::failed);
  CHECK(j.status == 504);
  CHECK(j.progress["state"] == "timed-out");

  auto gone = started();
  service_gone(gone);
  CHECK(gone.status == 404);
  CHECK(gone.err->message == "the service was deleted during the update");
}

TEST_CASE("a service-update job round-trips through the store's JSON") {
  auto j = started();
  apply_service_status(j, record(2, status_update("paused", 2, 1, "boom")));
  auto back = job_from_json(to_json(j));
  REQUIRE(back);
  CHECK(back->kind == "service-update");
  CHECK(back->state == job_state::failed);
  CHECK(back->progress == j.progress);
  CHECK(back->err->message == "paused: boom");
}
