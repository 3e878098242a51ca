// service_update_job: the state machine of a `service-update` job, which follows one rolling
// update of a service (docs/services.md "Rolling update", docs/bridge.md "Jobs") from the PATCH
// that bumped the generation until the rollout ends. Pure: no bus, no clock, no locks; job_runner
// (job_runner_update.cpp) feeds it what it learns -- the service's record with `status.update`
// (service-get, polled), the reconciler's `service-reconcile` events, the time -- inside
// job_store::update, so it runs on whichever thread delivered that (bus thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/protocol/names.hpp"
#include "ui-bridge/job_store.hpp"

namespace dockmesh::bridge {

inline constexpr std::string_view service_update_kind = common::protocol::names::service_update;
// A rollout that has not ended by then fails: a paused update waits for a new change of the
// spec, and the gate's own budget (running_s or the health check's, plus 30 s) bounds a batch,
// but replicas that cannot be placed (blocked) would wait forever.
inline constexpr std::chrono::minutes service_update_deadline{30};

// The job's first progress, from the record the PATCH answered:
// {service, generation, state: "updating", updated: 0, replicas, batches: 0, deadline}.
nlohmann::json update_progress(const nlohmann::json& record, std::int64_t deadline_ms);

// Folds service-get's answer (the record, with `generation` and `status.update`) into the job:
// progress, or the end (done; failed when rolled back, paused or superseded).
void apply_service_status(job& j, const nlohmann::json& record);

// Folds a service-reconcile event's body (update-batch, update-done, rollback, update-paused)
// into the job; other steps and other services change nothing.
void apply_reconcile_step(job& j, const nlohmann::json& event);

// Past the deadline in the progress: failed (504).
void check_update_deadline(job& j, std::int64_t now_ms);

// The service is gone (service-get answered 404): failed.
void service_gone(job& j);

}  // namespace dockmesh::bridge
