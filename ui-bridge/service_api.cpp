#include "ui-bridge/service_api.hpp"

#include "common/protocol/names.hpp"

namespace dockmesh::bridge {

namespace names = common::protocol::names;
using nlohmann::json;

void service_api::call_broker(const api_call_ptr& call, std::string_view action, json body) {
  body["user"] = call->who.user_id;
  body["admin"] = call->who.is_admin();
  send_control(call, action, std::move(body));
}

void service_api::send_control(const api_call_ptr& call, std::string_view action, json body) {
  s_.gateway.control(std::string(action), std::move(body),
                     on_strand(call, [call](common::result<common::envelope> r) {
                       if (!r) return call->fail(r.err());
                       if (r->code < 200 || r->code >= 300) return call->relay(*r);
                       call->reply(static_cast<http::status>(r->code), r->body);
                     }));
}

namespace {

// The body as a JSON object, or a 400 already sent.
std::optional<json> object_body(const api_call_ptr& call) {
  auto body = call->json_body();
  if (body && !body->is_object()) {
    call->fail(
        common::make_error(common::errc::invalid_argument, "the body must be a JSON object"));
    return std::nullopt;
  }
  return body;
}

}  // namespace

void service_api::projects_list(api_call_ptr call) {
  call_broker(call, names::project_list, json::object());
}

void service_api::projects_create(api_call_ptr call) {
  auto body = object_body(call);
  if (!body) return;
  call_broker(call, names::project_create, {{"name", body->value("name", json())}});
}

void service_api::project_delete(api_call_ptr call) {
  call_broker(call, names::project_delete, {{"project", call->params["id"]}});
}

void service_api::services_list(api_call_ptr call) {
  json body = json::object();
  if (call->query.count("project")) body["project"] = call->query["project"];
  call_broker(call, names::service_list, body);
}

void service_api::services_create(api_call_ptr call) {
  auto body = object_body(call);
  if (!body) return;
  json out = json::object();
  for (const char* k : {"project", "name", "spec"})
    if (body->contains(k)) out[k] = (*body)[k];
  call_broker(call, names::service_create, out);
}

void service_api::service_get(api_call_ptr call) {
  call_broker(call, names::service_get, {{"service", call->params["id"]}});
}

void service_api::service_update(api_call_ptr call) {
  auto body = object_body(call);
  if (!body) return;
  // PATCH takes the spec's changed fields, bare or as {"spec": {...}}.
  json spec = body->contains("spec") ? (*body)["spec"] : *body;
  // The generation before the change: a PATCH that bumps it starts a rolling update, which a
  // service-update job follows. The broker's answer to the change alone cannot tell (a change of
  // policies keeps the generation and the previous_* fields of an earlier update).
  json ref = {{"service", call->params["id"]},
              {"user", call->who.user_id},
              {"admin", call->who.is_admin()}};
  s_.gateway.control(
      std::string(names::service_get), ref,
      on_strand(call, [this, call, spec](common::result<common::envelope> before) mutable {
        std::int64_t was = before && before->code == 200 && before->body.is_object()
                               ? before->body.value("generation", std::int64_t{0})
                               : 0;
        json change = {{"service", call->params["id"]}, {"spec", std::move(spec)}};
        change["user"] = call->who.user_id;
        change["admin"] = call->who.is_admin();
        s_.gateway.control(std::string(names::service_update), std::move(change),
                           on_strand(call, [this, call, was](common::result<common::envelope> r) {
                             updated(call, was, std::move(r));
                           }));
      }));
}

void service_api::updated(const api_call_ptr& call, std::int64_t was,
                          common::result<common::envelope> r) {
  if (!r) return call->fail(r.err());
  if (r->code < 200 || r->code >= 300) return call->relay(*r);
  json record = r->body;
  std::int64_t now = record.is_object() ? record.value("generation", std::int64_t{0}) : 0;
  if (was > 0 && now > was) {
    // The answer stays the record (compatible with clients that predate the job), plus the job.
    auto j = s_.runner.start_service_update(call->who, record);
    if (j) {
      record["job"] = j->id;
      record["job_location"] = "/api/v1/jobs/" + j->id;
    } else {
      record["job_error"] = j.err().message;  // the change is made; only its follower is not
    }
  }
  call->reply(static_cast<http::status>(r->code), record);
}

void service_api::service_delete(api_call_ptr call) {
  call_broker(call, names::service_delete, {{"service", call->params["id"]}});
}

void service_api::service_scale(api_call_ptr call) {
  auto body = object_body(call);
  if (!body) return;
  call_broker(call, names::service_scale,
              {{"service", call->params["id"]}, {"replicas", body->value("replicas", json())}});
}

namespace {

// Pools and quotas are the admins' to set: a user is refused here already (the broker checks
// the `admin` flag again).
bool admin_only(const api_call_ptr& call) {
  if (call->who.is_admin()) return true;
  call->fail(common::make_error(common::errc::forbidden,
                                "host policies, teams and quotas are set by admins"));
  return false;
}

}  // namespace

void service_api::host_policies_list(api_call_ptr call) {
  if (!admin_only(call)) return;
  call_broker(call, names::host_policy_list, json::object());
}

void service_api::host_policy_set(api_call_ptr call) {
  if (!admin_only(call)) return;
  auto body = object_body(call);
  if (!body) return;
  json out = {{"fqdn", call->params["fqdn"]}};
  for (const char* k : {"pool", "cordoned", "draining", "batch", "deadline_s", "all"})
    if (body->contains(k)) out[k] = (*body)[k];
  call_broker(call, names::host_policy_set, out);
}

void service_api::quotas_list(api_call_ptr call) {
  // `user` here names whose quota is listed: a user sees its own only.
  json body = {{"admin", call->who.is_admin()}};
  if (!call->who.is_admin()) body["user"] = call->who.user_id;
  send_control(call, names::quota_list, std::move(body));
}

void service_api::quota_set(api_call_ptr call) {
  if (!admin_only(call)) return;
  auto body = object_body(call);
  if (!body) return;
  json out = {{"user", call->params["user"]}, {"admin", true}};
  for (const char* k : {"containers", "memory"})
    if (body->contains(k)) out[k] = (*body)[k];
  send_control(call, names::quota_set, std::move(out));
}

void service_api::teams_list(api_call_ptr call) {
  // `user` here names whose teams are listed: a user sees the teams it is in.
  json body = {{"admin", call->who.is_admin()}};
  if (!call->who.is_admin()) body["user"] = call->who.user_id;
  send_control(call, names::team_list, std::move(body));
}

void service_api::team_set(api_call_ptr call) {
  if (!admin_only(call)) return;
  auto body = object_body(call);
  if (!body) return;
  json out = {{"name", call->params["name"]}, {"admin", true}};
  if (body->contains("members")) out["members"] = (*body)["members"];
  send_control(call, names::team_set, std::move(out));
}

void service_api::team_delete(api_call_ptr call) {
  if (!admin_only(call)) return;
  send_control(call, names::team_delete, {{"name", call->params["name"]}, {"admin", true}});
}

}  // namespace dockmesh::bridge
