#include "ui-bridge/auth_api.hpp"

#include "ui-bridge/bridge_metrics.hpp"

#include "common/envelope.hpp"
#include "common/log.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
using steady = std::chrono::steady_clock;

namespace {

std::optional<std::string> string_field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
  return j[key].get<std::string>();
}

http_response too_many(const http_request& req, std::chrono::seconds wait) {
  auto res =
      error_response(req, http::status::too_many_requests, "rate_limited",
                     "too many failed logins; try again in " + std::to_string(wait.count()) + " s");
  res.set(http::field::retry_after, std::to_string(wait.count()));
  return res;
}

}  // namespace

void auth_api::offload(const api_call_ptr& call, std::function<void()> work) {
  if (!s_.pool.submit(std::move(work)))
    call->fail(make_error(errc::unavailable, "the bridge is busy; try again shortly"));
}

bool auth_api::require_admin(const api_call_ptr& call) {
  if (call->who.is_admin()) return true;
  call->fail(make_error(errc::forbidden, "only admins may manage users"));
  return false;
}

void auth_api::login(api_call_ptr call) {
  auto body = call->json_body();
  if (!body) return;
  auto user = string_field(*body, "username");
  auto password = string_field(*body, "password");
  if (!user || !password)
    return call->fail(
        make_error(errc::invalid_argument, "give {\"username\": ..., \"password\": ...}"));
  auto now = steady::now();
  auto wait = s_.address_failures.blocked(call->peer, now);
  if (!wait) wait = s_.user_failures.blocked(*user, now);
  if (wait) {
    bridge_metrics::get().login_failure("rate_limited");
    return call->respond(too_many(call->req, *wait));
  }
  offload(call,
          [this, call, user = *user, password = *password] { check_login(call, user, password); });
}

void auth_api::check_login(api_call_ptr call, std::string user, std::string password) {
  auto u = s_.users.check_login(user, password);
  if (!u) {
    if (u.err().code == errc::unauthorized) {
      s_.user_failures.record_failure(user, steady::now());
      s_.address_failures.record_failure(call->peer, steady::now());
      bridge_metrics::get().login_failure("bad_credentials");
      DM_LOG(info) << "failed login for '" << user.substr(0, 32) << "' from " << call->peer;
    }
    return call->fail(u.err());
  }
  s_.user_failures.reset(user);
  auto session = s_.auth.issue_session(*u, common::now_ms() / 1000);
  call->reply(http::status::ok, {{"token", session.token},
                                 {"expires", session.expires_s},
                                 {"user", u->name},
                                 {"role", to_string(u->role)}});
}

void auth_api::whoami(api_call_ptr call) {
  nlohmann::json j = {
      {"user", call->who.user}, {"id", call->who.user_id}, {"role", to_string(call->who.role)}};
  if (!call->who.token_id.empty()) j["token_id"] = call->who.token_id;
  call->reply(http::status::ok, j);
}

void auth_api::tokens_list(api_call_ptr call) {
  bool all = call->who.is_admin() && call->query.count("all") && call->query["all"] != "0";
  auto tokens = s_.tokens.list(all ? std::nullopt : std::optional<std::string>(call->who.user));
  if (!tokens) return call->fail(tokens.err());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : *tokens) out.push_back(public_view(t));
  call->reply(http::status::ok, {{"tokens", out}});
}

void auth_api::tokens_create(api_call_ptr call) {
  auto body = call->req.body().empty() ? std::optional<nlohmann::json>(nlohmann::json::object())
                                       : call->json_body();
  if (!body) return;
  auto name = string_field(*body, "name").value_or("");
  auto ttl = body->value("ttl_seconds", nlohmann::json(0));
  if (!ttl.is_number_integer() || ttl.get<std::int64_t>() < 0)
    return call->fail(
        make_error(errc::invalid_argument, "ttl_seconds: must be a non-negative integer"));
  offload(call, [this, call, name, ttl = ttl.get<std::int64_t>()] {
    auto made = s_.tokens.create(call->who.user, name, ttl);
    if (!made) return call->fail(made.err());
    auto j = public_view(made->first);
    j["token"] = made->second;
    call->reply(http::status::created, j);
  });
}

void auth_api::tokens_revoke(api_call_ptr call) {
  const std::string& id = call->params["id"];
  auto t = s_.tokens.find(id);
  if (!t) return call->fail(t.err());
  // Someone else's token is "not found" to a user: its existence is none of their business.
  if (!t->has_value() || ((*t)->user != call->who.user && !call->who.is_admin()))
    return call->fail(make_error(errc::not_found, "no API token " + id));
  offload(call, [this, call, id] {
    if (auto ok = s_.tokens.revoke(id); !ok) return call->fail(ok.err());
    call->reply(http::status::ok, {{"revoked", id}});
  });
}

void auth_api::users_list(api_call_ptr call) {
  if (!require_admin(call)) return;
  auto users = s_.users.list();
  if (!users) return call->fail(users.err());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& u : *users) out.push_back(public_view(u));
  call->reply(http::status::ok, {{"users", out}});
}

void auth_api::users_create(api_call_ptr call) {
  if (!require_admin(call)) return;
  auto body = call->json_body();
  if (!body) return;
  auto name = string_field(*body, "name");
  auto role = parse_user_role(string_field(*body, "role").value_or("user"));
  if (!name) return call->fail(make_error(errc::invalid_argument, "name: required"));
  if (!role) return call->fail(make_error(errc::invalid_argument, "role: must be admin or user"));
  auto given = string_field(*body, "password");
  offload(call, [this, call, name = *name, role = *role, given] {
    std::string password = given.value_or(generate_password());
    auto u = s_.users.add(name, password, role);
    if (!u) return call->fail(u.err());
    auto j = public_view(*u);
    if (!given) j["password"] = password;  // generated: shown this once
    call->reply(http::status::created, j);
  });
}

void auth_api::users_remove(api_call_ptr call) {
  if (!require_admin(call)) return;
  std::string name = call->params["name"];
  if (name == call->who.user)
    return call->fail(make_error(errc::conflict, "you cannot remove yourself"));
  offload(call, [this, call, name] {
    if (auto ok = s_.users.remove(name); !ok) return call->fail(ok.err());
    if (auto ok = s_.tokens.revoke_all_of(name); !ok) return call->fail(ok.err());
    call->reply(http::status::ok, {{"removed", name}});
  });
}

void auth_api::users_password(api_call_ptr call) {
  std::string name = call->params["name"];
  if (name != call->who.user && !require_admin(call)) return;
  auto body = call->json_body();
  if (!body) return;
  auto given = string_field(*body, "password");
  if (!given && !call->who.is_admin())
    return call->fail(make_error(errc::invalid_argument, "password: required"));
  offload(call, [this, call, name, given] {
    std::string password = given.value_or(generate_password());
    auto u = s_.users.set_password(name, password);
    if (!u) return call->fail(u.err());
    auto j = public_view(*u);
    if (!given) j["password"] = password;
    call->reply(http::status::ok, j);
  });
}

}  // namespace dockmesh::bridge
