// pull_progress: reads the JSON-lines stream of POST /images/create. It forwards progress records
// (throttled: a layer's status change, or every 500 ms while bytes move) to a progress_sink, keeps
// the last "Status: ..." line, and turns an {"error": ...} line into a common::error with a fitting
// code (not found, unauthorized, registry unreachable). Also: splitting an image reference into
// repository and tag, and the X-Registry-Auth header. Used on one worker thread.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/action_context.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {

struct image_name {
  std::string repository;  // [registry/]path
  std::string tag;         // tag, or a digest "sha256:..."; "latest" when the reference has none
  std::string reference() const;  // repository:tag or repository@digest
};
image_name split_image_name(std::string_view ref);

// base64url(JSON{username, password, serveraddress}), as Docker wants in X-Registry-Auth.
std::string registry_auth_header(const common::registry_auth& auth);

class pull_progress {
 public:
  pull_progress(std::string request_id, std::string image, const progress_sink& sink,
                std::chrono::milliseconds min_interval = std::chrono::milliseconds(500));
  bool feed(std::string_view bytes);  // false stops the stream (a line was not JSON)
  const std::optional<common::error>& failure() const { return failure_; }
  const std::string& last_status() const { return last_status_; }
  int events_sent() const { return sent_; }

 private:
  void line(std::string_view text);
  std::string request_id_, image_;
  const progress_sink& sink_;
  std::chrono::milliseconds min_interval_;
  std::string buffer_;
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> layers_;
  std::optional<common::error> failure_;
  std::string last_status_;
  int sent_ = 0;
};

// The errc a registry error message stands for.
common::errc pull_error_code(std::string_view message);

}  // namespace dockmesh::agent
