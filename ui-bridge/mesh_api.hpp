// mesh_api: the REST endpoints about the mesh: hosts, containers (the caller's; admins all, or
// the orphaned ones), images, jobs, the create policy and `POST /api/v1/messages`. Directory reads
// are control calls and operations are bus requests, both through the message gateway; nothing here
// blocks: each handler starts the asynchronous work and the completion answers on the connection's
// strand.
#pragma once

#include "ui-bridge/api_call.hpp"

namespace dockmesh::bridge {

class mesh_api {
 public:
  explicit mesh_api(bridge_services& s) : s_(s) {}

  void hosts_list(api_call_ptr call);
  // GET /api/v1/audit?since=MS&user=U&limit=N: the broker's audit log; admins only.
  void audit_list(api_call_ptr call);
  void host_get(api_call_ptr call);
  void containers_list(api_call_ptr call);
  void containers_create(api_call_ptr call);
  void container_get(api_call_ptr call);
  void container_remove(api_call_ptr call);
  void jobs_get(api_call_ptr call);
  void images_list(api_call_ptr call);
  void images_pull(api_call_ptr call);
  void messages(api_call_ptr call);
  // GET /api/v1/catalogue: the protocol catalogue as JSON (the web UI builds its actions from it).
  void catalogue(api_call_ptr call);
  // GET /api/v1/schemas/{name}: a schema the catalogue names (body_schema, reply_schema).
  void schema_get(api_call_ptr call);
  // The create policy: the fixed part and the defaults, or (?host=) that host's effective one.
  void policy_get(api_call_ptr call);
  // mesh_api_history.cpp: GET /api/v1/containers/{id}/stats/history?since=MS (the caller's
  // containers; another user's answers 404) and GET /api/v1/hosts/{fqdn}/stats/history (admins).
  void container_stats_history(api_call_ptr call);
  void host_stats_history(api_call_ptr call);

 private:
  // A control call whose 200 body is the response; other codes are relayed as errors.
  void directory(const api_call_ptr& call, std::string action, nlohmann::json body);
  void job_accepted(const api_call_ptr& call, const common::result<job>& j);
  // Admins: containers whose owner id belongs to no current user (removed users, name labels).
  void orphaned_list(const api_call_ptr& call, nlohmann::json body);

  bridge_services& s_;
};

}  // namespace dockmesh::bridge
