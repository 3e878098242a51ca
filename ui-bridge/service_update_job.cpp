#include "ui-bridge/service_update_job.hpp"

#include <string>

#include "ui-bridge/json_fields.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
using nlohmann::json;

namespace {

std::int64_t target_of(const job& j) {
  return integer_of(j.progress, "generation");
}

void finish_done(job& j) {
  j.progress["state"] = "done";
  j.state = job_state::done;
  j.status = 200;
  j.result = j.progress;
  j.result.erase("deadline");
}

void finish_failed(job& j, const char* state, errc code, const std::string& message) {
  j.progress["state"] = state;
  j.progress["error"] = message;
  j.state = job_state::failed;
  j.status = common::to_status(code);
  j.err = make_error(code, message);
  j.result = j.progress;
  j.result.erase("deadline");
}

void rolled_back(job& j, std::int64_t back_to, const std::string& why) {
  j.progress["failed_generation"] = target_of(j);
  j.progress["rollback_generation"] = back_to;
  finish_failed(j, "rolled-back", errc::conflict, "rolled back: " + why);
}

void superseded(job& j, std::int64_t by) {
  finish_failed(j, "superseded", errc::conflict, "superseded by generation " + std::to_string(by));
}

// An error field that may be null (status.update has `error: null` while all is well).
std::string error_of(const json& j) {
  std::string e = text_of(j, "error");
  return e.empty() ? "no reason given" : e;
}

}  // namespace

json update_progress(const json& record, std::int64_t deadline_ms) {
  return {{"service", text_of(record, "id")},
          {"generation", integer_of(record, "generation", 1)},
          {"state", "updating"},
          {"updated", 0},
          {"replicas", integer_of(record.value("spec", json::object()), "replicas", 1)},
          {"batches", 0},
          {"deadline", deadline_ms}};
}

void apply_service_status(job& j, const json& record) {
  if (j.state != job_state::running || !record.is_object()) return;
  const std::int64_t target = target_of(j);
  const std::int64_t generation = integer_of(record, "generation", 1);
  const json& status = common::field_of(record, "status");
  const json& update = common::field_of(status, "update");
  const std::string state = text_of(update, "state");
  // A broker that has not seen the change yet (several brokers) answers an older record.
  if (generation < target) return;
  if (generation > target) {
    if (state == "rolled-back" && integer_of(update, "failed_generation") == target)
      return rolled_back(j, generation, error_of(update));
    return superseded(j, generation);
  }
  if (update.is_object()) {
    j.progress["updated"] = integer_of(update, "updated");
    j.progress["replicas"] = integer_of(update, "replicas", integer_of(j.progress, "replicas"));
  }
  // The broker says `done` as soon as no replica of an older generation is left, which is also
  // true before the first replica of a new service exists: done needs the replicas running too.
  if (state == "done" && integer_of(j.progress, "updated") >= integer_of(j.progress, "replicas"))
    return finish_done(j);
  if (state == "paused")
    return finish_failed(j, "paused", errc::conflict, "paused: " + error_of(update));
}

void apply_reconcile_step(job& j, const json& event) {
  if (j.state != job_state::running || !event.is_object()) return;
  if (text_of(event, "service") != text_of(j.progress, "service")) return;
  const std::string step = text_of(event, "step");
  const bool update_step = step == "update-batch" || step == "update-done" || step == "rollback" ||
                           step == "update-paused";
  if (!update_step) return;
  const std::int64_t target = target_of(j);
  const std::int64_t generation = integer_of(event, "generation");
  if (step == "rollback" && integer_of(event, "failed_generation") == target)
    return rolled_back(j, generation, error_of(event));
  if (generation > target) return superseded(j, generation);
  if (generation != target) return;  // an older rollout's late step
  if (event.contains("replicas")) j.progress["replicas"] = integer_of(event, "replicas");
  if (event.contains("updated")) j.progress["updated"] = integer_of(event, "updated");
  if (step == "update-batch") {
    j.progress["batches"] = integer_of(j.progress, "batches") + 1;
  } else if (step == "update-done") {
    finish_done(j);
  } else if (step == "update-paused") {
    finish_failed(j, "paused", errc::conflict, "paused: " + error_of(event));
  }
}

void check_update_deadline(job& j, std::int64_t now_ms) {
  if (j.state != job_state::running) return;
  if (now_ms < integer_of(j.progress, "deadline", now_ms + 1)) return;
  finish_failed(j, "timed-out", errc::timeout,
                "the update did not end within " + std::to_string(service_update_deadline.count()) +
                    " minutes");
}

void service_gone(job& j) {
  if (j.state != job_state::running) return;
  finish_failed(j, "deleted", errc::not_found, "the service was deleted during the update");
}

}  // namespace dockmesh::bridge
