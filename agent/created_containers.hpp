// created_containers: the containers this agent created lately, by full id, with the owner label
// it gave them and their name. An operation that arrives right after the create (`docker run`
// starts at once) checks the owner here instead of asking dockerd for the whole container
// document (one inspect, 4-5 ms on a loaded host). Sound because Docker's labels cannot change
// after create and a full id is never reused; a name or prefix always goes to dockerd. Bounded in
// entries and age. Shared by the worker threads (a mutex; nothing blocks under it). Owned by the
// agent, reached through agent_identity.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace dockmesh::agent {

class created_containers {
 public:
  using clock = std::chrono::steady_clock;
  struct entry {
    std::string owner;  // the owner label's value (the creating user's immutable id)
    std::string name;   // without Docker's leading '/'
  };

  explicit created_containers(std::size_t capacity = 1024,
                              std::chrono::seconds ttl = std::chrono::seconds(120))
      : capacity_(capacity), ttl_(ttl) {}

  void add(const std::string& full_id, entry e, clock::time_point now = clock::now());
  // Only a full 64-hex id known here and younger than the ttl; nullopt otherwise.
  std::optional<entry> find(const std::string& full_id, clock::time_point now = clock::now()) const;
  void forget(const std::string& full_id);
  void set_name(const std::string& full_id, const std::string& name);  // once Docker's is known

 private:
  struct slot {
    entry e;
    clock::time_point at;
  };
  std::size_t capacity_;
  std::chrono::seconds ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, slot> by_id_;
  std::deque<std::string> order_;  // oldest first; may hold ids already forgotten
};

}  // namespace dockmesh::agent
