// test_support: helpers shared by broker_tests only (a temporary data directory that removes
// itself, a state_db opened in it, synthetic announcements).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "broker/state_db.hpp"
#include "common/envelope.hpp"

namespace dockmesh::broker::testing {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() /
           ("broker-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
};

inline nlohmann::json host_record(const std::string& fqdn, std::int64_t inc, std::int64_t seq,
                                  nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json j = {{"fqdn", fqdn},
                      {"incarnation", inc},
                      {"sequence", seq},
                      {"docker_up", true},
                      {"cpus", 2},
                      {"memory_bytes", 1LL << 33},
                      {"labels", nlohmann::json::object()},
                      {"containers_running", 0}};
  j.update(extra);
  return j;
}

// Give one container as json::array({container(...)}): a braced list holding a single json is
// that json copied under clang 14, an array of it under gcc.
inline nlohmann::json inventory(const std::string& fqdn, std::int64_t inc, std::int64_t seq,
                                nlohmann::json containers) {
  return {{"fqdn", fqdn}, {"incarnation", inc}, {"sequence", seq}, {"containers", containers}};
}

inline nlohmann::json container(const std::string& id, const std::string& name,
                                const std::string& image, const std::string& owner = "",
                                const std::string& state = "running") {
  return {{"id", id},       {"name", "/" + name}, {"image", image},
          {"state", state}, {"created", 1},       {"owner", owner}};
}

// A targeted request (start-container) from `user` with the bridge-stamped `role`, as the pool
// checks see it.
inline common::envelope request_as(std::string user, std::string role) {
  common::envelope e;
  e.id = "r1";
  e.action = "start-container";
  e.user = std::move(user);
  e.role = std::move(role);
  e.reply_to = "rep/c1/";
  return e;
}

}  // namespace dockmesh::broker::testing
