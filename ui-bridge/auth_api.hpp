// auth_api: the REST endpoints about identity: `POST /api/v1/login` (rate-limited per user name
// and per client address), `GET /api/v1/whoami`, API tokens (`GET|POST /api/v1/tokens`,
// `DELETE /api/v1/tokens/{id}`) and user management for admins (`/api/v1/users...`). Password
// hashing and fsync'ed writes go to the blocking pool; the rest runs on the connection's strand.
#pragma once

#include "ui-bridge/api_call.hpp"

namespace dockmesh::bridge {

class auth_api {
 public:
  explicit auth_api(bridge_services& s) : s_(s) {}

  void login(api_call_ptr call);
  void whoami(api_call_ptr call);
  void tokens_list(api_call_ptr call);
  void tokens_create(api_call_ptr call);
  void tokens_revoke(api_call_ptr call);
  void users_list(api_call_ptr call);
  void users_create(api_call_ptr call);
  void users_remove(api_call_ptr call);
  void users_password(api_call_ptr call);

 private:
  // Runs `work` on the blocking pool, or answers 503 when the pool is full.
  void offload(const api_call_ptr& call, std::function<void()> work);
  bool require_admin(const api_call_ptr& call);
  void check_login(api_call_ptr call, std::string user, std::string password);

  bridge_services& s_;
};

}  // namespace dockmesh::bridge
