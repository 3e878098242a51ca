// api_call: one REST request on its way through the API: the parsed request, who sent it, the
// route's parameters, and `respond`, which hands the response back to the connection's strand
// (callable once, from any thread), and `post` to run work on that strand. Handlers keep a
// shared_ptr to it across asynchronous steps. Also bridge_services: the long-lived objects the API
// handlers work with, owned by main().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ui-bridge/authenticator.hpp"
#include "ui-bridge/blocking_pool.hpp"
#include "ui-bridge/event_hub.hpp"
#include "ui-bridge/http_reply.hpp"
#include "ui-bridge/job_runner.hpp"
#include "ui-bridge/job_store.hpp"
#include "ui-bridge/message_gateway.hpp"
#include "ui-bridge/rate_limiter.hpp"
#include "ui-bridge/stats_history.hpp"
#include "ui-bridge/token_store.hpp"
#include "ui-bridge/user_store.hpp"

namespace dockmesh::bridge {

struct api_call {
  http_request req;
  std::string peer;  // client address, for rate limiting and logs
  std::string path;  // target without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> params;
  principal who;
  std::function<void(http_response)> respond;
  std::function<void(std::function<void()>)> post;  // runs a function on the connection's strand

  void reply(http::status status, const nlohmann::json& body) const {
    respond(json_response(req, status, body));
  }
  void fail(const common::error& e) const { respond(error_response(req, e)); }
  void relay(const common::envelope& reply) const {
    respond(json_response(req, static_cast<http::status>(reply_status(reply)), reply_json(reply)));
  }
  // The body as JSON, or a 400 already sent (and nullopt).
  std::optional<nlohmann::json> json_body() const {
    auto j = nlohmann::json::parse(req.body(), nullptr, false);
    if (j.is_discarded()) {
      fail(common::make_error(common::errc::malformed, "the request body is not valid JSON"));
      return std::nullopt;
    }
    return j;
  }
};
using api_call_ptr = std::shared_ptr<api_call>;

// Wraps `f` (taking a result) so that, called from the bus thread, it runs on the call's strand:
// building the response (JSON serialisation of possibly large replies) stays off the bus thread.
template <class F>
auto on_strand(const api_call_ptr& call, F f) {
  return [call, f = std::move(f)](auto r) mutable {
    call->post([f = std::move(f), r = std::move(r)]() mutable { f(std::move(r)); });
  };
}

struct bridge_services {
  user_store& users;
  token_store& tokens;
  authenticator& auth;
  rate_limiter& user_failures;     // failed logins per user name
  rate_limiter& address_failures;  // failed logins per client address
  job_store& jobs;
  job_runner& runner;
  message_gateway& gateway;
  event_hub& events;
  blocking_pool& pool;
  // Usage history (stats_sampler.hpp); null when --stats-history is 0.
  const stats_history* container_stats = nullptr;
  const stats_history* host_stats = nullptr;
};

}  // namespace dockmesh::bridge
