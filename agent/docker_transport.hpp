// docker_transport: the one door from the agent to the Docker Engine API. A request is a method, a
// path below the negotiated version prefix ("/containers/json?all=1"), an optional JSON body and
// extra headers; the answer is Docker's status and body. docker_client implements it over the
// unix socket with libcurl; unit tests implement it with recorded Docker responses. Each object is
// used by one thread at a time; calls block up to the request's timeout.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace dockmesh::agent {

template <class T>
using result = common::result<T>;

enum class http_method { get, post, del, head };

std::string_view to_string(http_method m);

struct docker_request {
  http_method method = http_method::get;
  std::string path;                      // below the version prefix, query included
  std::string body;                      // JSON when non-empty
  std::vector<std::string> headers;      // "Name: value"; may hold credentials: never logged
  std::chrono::milliseconds timeout{0};  // 0 = the client's default
};

struct docker_response {
  int status = 0;    // Docker's HTTP status (2xx or 304: errors come back as result errors)
  std::string body;  // whole body for call(); empty for stream()
};

// Called with each piece of a streamed body as it arrives; return false to stop early.
using chunk_sink = std::function<bool(std::string_view)>;

class docker_transport {
 public:
  virtual ~docker_transport() = default;
  // One request. HTTP >= 400 becomes an error whose errc follows the status and whose message
  // is Docker's own; connection failures are errc::unavailable, timeouts errc::timeout.
  virtual result<docker_response> call(const docker_request& request) = 0;
  // As call(), but the body goes to `sink` as it arrives (events, pull progress, logs).
  virtual result<docker_response> stream(const docker_request& request, const chunk_sink& sink) = 0;
};

}  // namespace dockmesh::agent
