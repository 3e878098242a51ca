#include "ui-bridge/job_store.hpp"
#include "ui-bridge/json_fields.hpp"

#include "common/log.hpp"
#include "ui-bridge/base64url.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

std::string_view to_string(job_state s) {
  switch (s) {
    case job_state::running:
      return "running";
    case job_state::done:
      return "done";
    case job_state::failed:
      return "failed";
  }
  return "failed";
}

nlohmann::json to_json(const job& j) {
  nlohmann::json out = {{"id", j.id},
                        {"kind", j.kind},
                        {"user", j.user},
                        {"state", to_string(j.state)},
                        {"created", j.created_ms},
                        {"updated", j.updated_ms},
                        {"progress", j.progress}};
  if (j.state != job_state::running) {
    out["finished"] = j.finished_ms;
    out["status"] = j.status;
    out["result"] = j.result;
  }
  if (j.err) out["error"] = {{"code", common::to_string(j.err->code)}, {"message", j.err->message}};
  if (!j.location.empty()) out["location"] = j.location;
  return out;
}

std::optional<job> job_from_json(const nlohmann::json& in) {
  if (!in.is_object() || !in.contains("id")) return std::nullopt;
  job j;
  j.id = text_of(in, "id");
  j.kind = text_of(in, "kind");
  j.user = text_of(in, "user");
  auto st = text_of(in, "state", "failed");
  j.state = st == "running" ? job_state::running
            : st == "done"  ? job_state::done
                            : job_state::failed;
  j.created_ms = integer_of(in, "created");
  j.updated_ms = integer_of(in, "updated");
  j.finished_ms = integer_of(in, "finished");
  j.progress = in.contains("progress") && in["progress"].is_object() ? in["progress"]
                                                                     : nlohmann::json::object();
  j.result = in.value("result", nlohmann::json());
  j.status = static_cast<int>(integer_of(in, "status"));
  j.location = text_of(in, "location");
  if (in.contains("error") && in["error"].is_object())
    j.err = make_error(common::from_status(j.status), text_of(in["error"], "message"));
  return j;
}

job_store::job_store(kv_store& kv, job_limits limits, std::int64_t now_ms)
    : kv_(kv), limits_(limits) {
  load(now_ms);
}

void job_store::load(std::int64_t now_ms) {
  auto rows = kv_.scan("job/");
  if (!rows) throw std::runtime_error(rows.err().message);
  for (auto& [key, value] : *rows) {
    auto j = job_from_json(nlohmann::json::parse(value, nullptr, false));
    if (!j || expired(*j, now_ms)) {
      (void)kv_.remove(key);
      continue;
    }
    if (j->state == job_state::running) {
      // Whatever it waited for went with the previous process: say so instead of hanging.
      j->state = job_state::failed;
      j->finished_ms = j->updated_ms = now_ms;
      j->status = 503;
      j->err = make_error(errc::unavailable, "the bridge restarted while the job was running");
      (void)kv_.put_json(key, to_json(*j));
    }
    by_created_.emplace(j->created_ms, j->id);
    jobs_.emplace(j->id, std::move(*j));
  }
  while (jobs_.size() > limits_.max_jobs && make_room(now_ms)) {
  }
}

bool job_store::expired(const job& j, std::int64_t now_ms) const {
  return j.state != job_state::running &&
         j.finished_ms + std::int64_t{limits_.ttl.count()} * 1000 <= now_ms;
}

void job_store::drop(const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  auto range = by_created_.equal_range(it->second.created_ms);
  for (auto r = range.first; r != range.second; ++r)
    if (r->second == id) {
      by_created_.erase(r);
      break;
    }
  jobs_.erase(it);
  (void)kv_.remove("job/" + id);
}

bool job_store::make_room(std::int64_t now_ms) {
  std::optional<std::string> oldest_finished;
  for (auto it = by_created_.begin(); it != by_created_.end();) {
    const job& j = jobs_.at(it->second);
    auto next = std::next(it);
    if (expired(j, now_ms)) {
      drop(j.id);
      return true;
    }
    if (!oldest_finished && j.state != job_state::running) oldest_finished = j.id;
    it = next;
  }
  if (!oldest_finished) return false;
  drop(*oldest_finished);
  return true;
}

common::result<job> job_store::create(const std::string& kind, const std::string& user,
                                      std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (jobs_.size() >= limits_.max_jobs && !make_room(now_ms))
    return make_error(errc::unavailable, "too many jobs in progress; try again later");
  job j;
  j.id = random_hex(8);
  j.kind = kind;
  j.user = user;
  j.created_ms = j.updated_ms = now_ms;
  if (auto ok = kv_.put_json("job/" + j.id, to_json(j)); !ok) return ok.err();
  by_created_.emplace(j.created_ms, j.id);
  jobs_.emplace(j.id, j);
  return j;
}

std::optional<job> job_store::get(const std::string& id, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  if (expired(it->second, now_ms)) {
    drop(id);
    return std::nullopt;
  }
  return it->second;
}

std::optional<job> job_store::update(const std::string& id, std::int64_t now_ms,
                                     const std::function<void(job&)>& change) {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.state != job_state::running) return std::nullopt;
  change(it->second);
  it->second.updated_ms = now_ms;
  if (it->second.state != job_state::running) it->second.finished_ms = now_ms;
  if (auto ok = kv_.put_json("job/" + id, to_json(it->second)); !ok) {
    DM_LOG(warn) << "cannot store job " << id << ": " << ok.err().message;
  }
  return it->second;
}

std::size_t job_store::size() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

std::array<std::size_t, 3> job_store::count_by_state() const {
  std::array<std::size_t, 3> n{};
  std::lock_guard lock(mutex_);
  for (const auto& [id, j] : jobs_) ++n[static_cast<int>(j.state)];
  return n;
}

}  // namespace dockmesh::bridge
