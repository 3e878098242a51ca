// api_dispatcher: the front of the REST API. Finds the route (404/405 otherwise), authenticates
// the caller from `Authorization: Bearer` (everything but login needs it; 401 otherwise), and
// hands the call to auth_api, mesh_api or service_api. Runs on the connection's strand; never
// blocks.
#pragma once

#include "ui-bridge/api_call.hpp"
#include "ui-bridge/auth_api.hpp"
#include "ui-bridge/mesh_api.hpp"
#include "ui-bridge/router.hpp"
#include "ui-bridge/service_api.hpp"

namespace dockmesh::bridge {

class api_dispatcher {
 public:
  explicit api_dispatcher(bridge_services& s);
  void handle(api_call_ptr call);

 private:
  // Sets `label` to the matched route's label before anything can respond.
  void route(api_call_ptr call, std::string& label);
  void invoke(route_id id, api_call_ptr call);

  bridge_services& s_;
  router router_;
  auth_api auth_;
  mesh_api mesh_;
  service_api services_;
};

}  // namespace dockmesh::bridge
