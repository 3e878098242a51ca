// docker_call: one request to the Docker-compatible endpoint on its way through docker_api: the
// request, its route, the caller, and how to answer -- `respond` once with a whole response, or
// `begin_stream` + `write`... + `end_stream` for Docker's streamed answers (logs --follow, events,
// pull progress), written raw and ended by closing the connection. Every answering function may be
// called from any thread: the session posts to its strand. `post` and `after` run work on that
// strand; `gone` turns true once the client has closed, so that followers stop polling.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "ui-bridge/authenticator.hpp"
#include "ui-bridge/docker_api_routes.hpp"
#include "ui-bridge/http_reply.hpp"

namespace dockmesh::bridge {

// The API version the endpoint speaks (dockerd 20.10's).
inline constexpr const char* docker_api_version = "1.41";

// A Docker-style response: JSON body (or none for 204/304), API-Version and Server headers.
http_response docker_response(const http_request& req, http::status status,
                              const nlohmann::json& body);
// {"message": "..."} with the status for the errc.
http_response docker_error(const http_request& req, http::status status, std::string_view message);

struct docker_call {
  http_request req;
  docker_route_match route;
  std::map<std::string, std::string> query;
  principal who;

  std::function<void(http_response)> respond;
  std::function<void(std::string content_type)> begin_stream;
  std::function<void(std::string bytes)> write;
  std::function<void()> end_stream;
  std::function<void(std::function<void()>)> post;
  std::function<void(std::chrono::milliseconds, std::function<void()>)> after;
  std::shared_ptr<std::atomic<bool>> gone = std::make_shared<std::atomic<bool>>(false);

  void reply(http::status status, const nlohmann::json& body) const {
    respond(docker_response(req, status, body));
  }
  void fail(http::status status, std::string_view message) const {
    respond(docker_error(req, status, message));
  }
  void fail(const common::error& e) const { fail(http_status_for(e.code), e.message); }
  bool flag(const char* name, bool fallback = false) const {
    auto it = query.find(name);
    if (it == query.end()) return fallback;
    return it->second == "1" || it->second == "true" || it->second == "True";
  }
  std::string param(const char* name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
};
using docker_call_ptr = std::shared_ptr<docker_call>;

}  // namespace dockmesh::bridge
