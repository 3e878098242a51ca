// job_store: asynchronous jobs (container creation, image pulls) in RocksDB (`job/<id>`) with an
// in-memory mirror. Bounded: at most `max_jobs` are kept; making room drops expired jobs, then the
// oldest finished ones; when every kept job is still running, create() refuses (errc::unavailable)
// rather than grow. A finished job lives `ttl` after it finished. Jobs found running at start-up
// were cut off by a restart and become failed. Thread-safe (one mutex); writes are buffered RocksDB
// puts (no fsync), cheap enough for handlers and the bus thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "ui-bridge/kv_store.hpp"

namespace dockmesh::bridge {

enum class job_state { running, done, failed };
std::string_view to_string(job_state s);

struct job {
  std::string id;
  std::string kind;  // the action (create-container, pull-image)
  std::string user;
  job_state state = job_state::running;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::int64_t finished_ms = 0;
  nlohmann::json progress = nlohmann::json::object();
  nlohmann::json result;  // the outcome when done
  int status = 0;         // HTTP-like code of the outcome
  std::optional<common::error> err;
  std::string location;  // where the created thing lives, once done
};
nlohmann::json to_json(const job& j);
std::optional<job> job_from_json(const nlohmann::json& j);

struct job_limits {
  std::size_t max_jobs = 1000;
  std::chrono::seconds ttl{3600};
};

class job_store {
 public:
  job_store(kv_store& kv, job_limits limits, std::int64_t now_ms);  // loads and recovers

  common::result<job> create(const std::string& kind, const std::string& user, std::int64_t now_ms);
  std::optional<job> get(const std::string& id, std::int64_t now_ms);
  // Applies `change` to the job (if it exists and is still running) and stores it; returns the
  // new state, or nullopt when there is no such running job.
  std::optional<job> update(const std::string& id, std::int64_t now_ms,
                            const std::function<void(job&)>& change);
  std::size_t size() const;
  // Kept jobs by job_state (running, done, failed).
  std::array<std::size_t, 3> count_by_state() const;

 private:
  bool expired(const job& j, std::int64_t now_ms) const;
  void drop(const std::string& id);
  bool make_room(std::int64_t now_ms);
  void load(std::int64_t now_ms);

  kv_store& kv_;
  job_limits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, job> jobs_;
  std::multimap<std::int64_t, std::string> by_created_;  // oldest first
};

}  // namespace dockmesh::bridge
