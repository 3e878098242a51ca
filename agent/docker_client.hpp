// docker_client: the Docker Engine API over the daemon's unix socket, with libcurl. One easy handle
// per object, so consecutive calls reuse one keep-alive connection. The API version is negotiated
// from the unversioned GET /version (the lower of the daemon's and ours, 1.41) and every path is
// then sent as /v<version><path>. CURLcode and HTTP status are turned into result<> here and
// nowhere else. Owned by one thread (a worker, the events follower); calls block up to their
// timeout, or until `cancel` is set (checked about once a second while a transfer idles).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/docker_transport.hpp"

namespace dockmesh::agent {

inline constexpr std::string_view max_docker_api_version = "1.41";

struct docker_client_options {
  std::string socket_path = "/var/run/docker.sock";
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds default_timeout{30000};
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  const std::atomic<bool>* cancel = nullptr;  // when true, transfers in progress abort
};

class docker_client final : public docker_transport {
 public:
  explicit docker_client(docker_client_options options);  // throws if libcurl cannot start
  ~docker_client() override;
  docker_client(const docker_client&) = delete;
  docker_client& operator=(const docker_client&) = delete;

  result<docker_response> call(const docker_request& request) override;
  result<docker_response> stream(const docker_request& request, const chunk_sink& sink) override;

  // GET /version and pick the API version. Done lazily by the first call and again after any
  // connection failure (the daemon may have been replaced). Returns e.g. "1.41".
  result<std::string> negotiate();
  const std::string& api_version() const { return api_version_; }
  const nlohmann::json& version_info() const { return version_info_; }
  const std::string& socket_path() const { return options_.socket_path; }

 private:
  struct transfer;
  // One transfer, counted and timed in agent_metrics (perform_once does the work).
  result<docker_response> perform(const docker_request& request, const chunk_sink* sink,
                                  bool versioned);
  result<docker_response> perform_once(const docker_request& request, const chunk_sink* sink,
                                       bool versioned);
  result<docker_response> ensure_negotiated_then(const docker_request& request,
                                                 const chunk_sink* sink);
  void prepare(transfer& t, const docker_request& request, bool versioned);

  docker_client_options options_;
  void* curl_ = nullptr;  // CURL*, kept opaque so that curl.h stays out of the header
  std::string api_version_;
  nlohmann::json version_info_;
};

// "1.41" < "1.9" is false: compares numerically. Malformed versions compare as 0.0.
int compare_api_versions(std::string_view a, std::string_view b);
// Docker's error body {"message": "..."} -> the message; other bodies -> trimmed text.
std::string docker_error_message(std::string_view body, int status);

}  // namespace dockmesh::agent
