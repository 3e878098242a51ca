#include "ui-bridge/api_dispatcher.hpp"

#include <chrono>

#include "common/envelope.hpp"
#include "common/log.hpp"
#include "ui-bridge/bridge_metrics.hpp"
#include "ui-bridge/openapi.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

api_dispatcher::api_dispatcher(bridge_services& s)
    : s_(s), router_(make_api_router()), auth_(s), mesh_(s), services_(s) {}

void api_dispatcher::handle(api_call_ptr call) {
  // Last line of defence: a handler that throws on input nobody foresaw answers 500 for that one
  // request instead of taking the whole bridge down.
  api_call_ptr keep = call;
  // Every response is counted and timed under its route's label (bridge_metrics).
  auto label = std::make_shared<std::string>("unmatched");
  call->respond = [inner = std::move(call->respond), label,
                   started = std::chrono::steady_clock::now()](http_response res) {
    bridge_metrics::get().http_request(
        *label, static_cast<int>(res.result_int()),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    inner(std::move(res));
  };
  try {
    route(std::move(call), *label);
  } catch (const std::exception& e) {
    DM_LOG(error) << "request " << keep->path << " failed with an exception: " << e.what();
    keep->fail(make_error(errc::internal, "internal error while handling " + keep->path));
  }
}

void api_dispatcher::route(api_call_ptr call, std::string& label) {
  auto found = router_.find(to_std(call->req.method_string()), call->path);
  if (found.match) label = found.match->label;
  if (!found.match) {
    if (found.miss == route_miss::method_not_allowed) {
      auto res = error_response(call->req, http::status::method_not_allowed, "method_not_allowed",
                                "use " + found.allowed + " on " + call->path);
      res.set(http::field::allow, found.allowed);
      return call->respond(std::move(res));
    }
    return call->fail(make_error(errc::not_found, "no API endpoint " + call->path));
  }
  call->params = std::move(found.match->params);
  // Login and the API's own description need no token.
  if (found.match->id != route_id::login && found.match->id != route_id::openapi) {
    auto who = s_.auth.authenticate_header(to_std(call->req[http::field::authorization]),
                                           common::now_ms());
    if (!who) {
      auto res = error_response(call->req, who.err());
      res.set(http::field::www_authenticate, "Bearer");
      return call->respond(std::move(res));
    }
    call->who = std::move(*who);
  }
  invoke(found.match->id, std::move(call));
}

void api_dispatcher::invoke(route_id id, api_call_ptr call) {
  switch (id) {
    case route_id::login:
      return auth_.login(std::move(call));
    case route_id::whoami:
      return auth_.whoami(std::move(call));
    case route_id::tokens_list:
      return auth_.tokens_list(std::move(call));
    case route_id::tokens_create:
      return auth_.tokens_create(std::move(call));
    case route_id::tokens_revoke:
      return auth_.tokens_revoke(std::move(call));
    case route_id::users_list:
      return auth_.users_list(std::move(call));
    case route_id::users_create:
      return auth_.users_create(std::move(call));
    case route_id::users_remove:
      return auth_.users_remove(std::move(call));
    case route_id::users_password:
      return auth_.users_password(std::move(call));
    case route_id::hosts_list:
      return mesh_.hosts_list(std::move(call));
    case route_id::audit_list:
      return mesh_.audit_list(std::move(call));
    case route_id::host_get:
      return mesh_.host_get(std::move(call));
    case route_id::containers_list:
      return mesh_.containers_list(std::move(call));
    case route_id::containers_create:
      return mesh_.containers_create(std::move(call));
    case route_id::container_get:
      return mesh_.container_get(std::move(call));
    case route_id::container_remove:
      return mesh_.container_remove(std::move(call));
    case route_id::jobs_get:
      return mesh_.jobs_get(std::move(call));
    case route_id::images_list:
      return mesh_.images_list(std::move(call));
    case route_id::images_pull:
      return mesh_.images_pull(std::move(call));
    case route_id::messages:
      return mesh_.messages(std::move(call));
    case route_id::catalogue:
      return mesh_.catalogue(std::move(call));
    case route_id::schema_get:
      return mesh_.schema_get(std::move(call));
    case route_id::policy_get:
      return mesh_.policy_get(std::move(call));
    case route_id::projects_list:
      return services_.projects_list(std::move(call));
    case route_id::projects_create:
      return services_.projects_create(std::move(call));
    case route_id::project_delete:
      return services_.project_delete(std::move(call));
    case route_id::services_list:
      return services_.services_list(std::move(call));
    case route_id::services_create:
      return services_.services_create(std::move(call));
    case route_id::service_get:
      return services_.service_get(std::move(call));
    case route_id::service_update:
      return services_.service_update(std::move(call));
    case route_id::service_delete:
      return services_.service_delete(std::move(call));
    case route_id::service_scale:
      return services_.service_scale(std::move(call));
    case route_id::host_policies_list:
      return services_.host_policies_list(std::move(call));
    case route_id::host_policy_set:
      return services_.host_policy_set(std::move(call));
    case route_id::quotas_list:
      return services_.quotas_list(std::move(call));
    case route_id::quota_set:
      return services_.quota_set(std::move(call));
    case route_id::teams_list:
      return services_.teams_list(std::move(call));
    case route_id::team_set:
      return services_.team_set(std::move(call));
    case route_id::team_delete:
      return services_.team_delete(std::move(call));
    case route_id::container_stats_history:
      return mesh_.container_stats_history(std::move(call));
    case route_id::host_stats_history:
      return mesh_.host_stats_history(std::move(call));
    case route_id::openapi:
      return call->reply(http::status::ok, openapi_document());
    case route_id::websocket:
      return call->fail(make_error(errc::invalid_argument, "/api/v1/ws needs a WebSocket upgrade"));
  }
}

}  // namespace dockmesh::bridge
