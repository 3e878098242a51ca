// service_api: the REST endpoints of projects and services (docs/services.md):
//   GET|POST /api/v1/projects, DELETE /api/v1/projects/{id},
//   GET|POST /api/v1/services (?project=), GET|PATCH|DELETE /api/v1/services/{id},
//   POST /api/v1/services/{id}/scale (a PATCH that bumps the generation also starts a
//   service-update job, job_runner.hpp); and for admins GET /api/v1/host-policies,
//   PUT /api/v1/hosts/{fqdn}/policy, GET /api/v1/quotas (users: their own), PUT
//   /api/v1/quotas/{user}, GET /api/v1/teams (users: their own), PUT|DELETE /api/v1/teams/{name}.
// Each is one control call of the catalogue (project-*, service-*) acting for the authenticated
// user: the bridge sets `user` (the immutable id) and `admin` itself, whatever the client sent.
// Runs on the connection's strand; never blocks (the completion is posted back to it).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ui-bridge/api_call.hpp"

namespace dockmesh::bridge {

class service_api {
 public:
  explicit service_api(bridge_services& s) : s_(s) {}

  void projects_list(api_call_ptr call);
  void projects_create(api_call_ptr call);
  void project_delete(api_call_ptr call);
  void services_list(api_call_ptr call);
  void services_create(api_call_ptr call);
  void service_get(api_call_ptr call);
  void service_update(api_call_ptr call);
  void service_delete(api_call_ptr call);
  void service_scale(api_call_ptr call);
  // Host pools, cordon, drain and quotas (admins set them; docs/services.md, "Host pools").
  void host_policies_list(api_call_ptr call);
  void host_policy_set(api_call_ptr call);
  void quotas_list(api_call_ptr call);
  void quota_set(api_call_ptr call);
  // Teams that may own host pools (admins set them; a user lists the teams it is in).
  void teams_list(api_call_ptr call);
  void team_set(api_call_ptr call);
  void team_delete(api_call_ptr call);

 private:
  // Sends the control call for the caller; a 2xx body is the response (with its code).
  void call_broker(const api_call_ptr& call, std::string_view action, nlohmann::json body);
  // The same without setting `user` (quota calls use it for whose quota).
  void send_control(const api_call_ptr& call, std::string_view action, nlohmann::json body);
  // The answer to a PATCH: the record, and a service-update job when the generation moved on
  // from `was`.
  void updated(const api_call_ptr& call, std::int64_t was, common::result<common::envelope> r);

  bridge_services& s_;
};

}  // namespace dockmesh::bridge
