#include "ui-bridge/mesh_api.hpp"

#include <set>

#include "common/create_policy.hpp"
#include "common/envelope.hpp"
#include "common/protocol/catalogue.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

namespace {

void relay_or_fail(const api_call_ptr& call, const common::result<common::envelope>& r) {
  if (!r) return call->fail(r.err());
  call->relay(*r);
}

// The bus request id for the call's Idempotency-Key header, per user: "" without a header.
common::result<std::string> idempotency_id(const api_call_ptr& call) {
  auto h = call->req.find("Idempotency-Key");
  if (h == call->req.end()) return std::string();
  auto id = common::request_id_from_key(call->who.user_id, std::string(h->value()));
  if (!id) return make_error(errc::invalid_argument, "Idempotency-Key: " + id.err().message);
  return id;
}

}  // namespace

void mesh_api::directory(const api_call_ptr& call, std::string action, nlohmann::json body) {
  s_.gateway.control(std::move(action), std::move(body),
                     on_strand(call, [call](common::result<common::envelope> r) {
                       if (!r) return call->fail(r.err());
                       if (r->code != 200) return call->relay(*r);
                       call->reply(http::status::ok, r->body);
                     }));
}

void mesh_api::hosts_list(api_call_ptr call) {
  nlohmann::json body = nlohmann::json::object();
  for (const char* k : {"status", "label"})
    if (call->query.count(k)) body[k] = call->query[k];
  directory(call, std::string(common::protocol::names::hosts), body);
}

void mesh_api::audit_list(api_call_ptr call) {
  if (!call->who.is_admin())
    return call->fail(make_error(errc::forbidden, "only admins may read the audit log"));
  nlohmann::json body = nlohmann::json::object();
  for (const char* k : {"since", "limit"}) {
    if (!call->query.count(k)) continue;
    const std::string& v = call->query[k];
    std::size_t used = 0;
    long long n = -1;
    try {
      n = std::stoll(v, &used);
    } catch (const std::exception&) {
    }
    if (n < 0 || used != v.size())
      return call->fail(make_error(errc::invalid_argument, std::string(k) + " must be a number"));
    body[k] = n;
  }
  if (call->query.count("user")) body["user"] = call->query["user"];
  directory(call, std::string(common::protocol::names::audit), body);
}

void mesh_api::host_get(api_call_ptr call) {
  directory(call, std::string(common::protocol::names::host), {{"fqdn", call->params["fqdn"]}});
}

void mesh_api::containers_list(api_call_ptr call) {
  nlohmann::json body = nlohmann::json::object();
  if (call->query.count("host")) body["host"] = call->query["host"];
  bool orphaned = call->query.count("orphaned") && call->query["orphaned"] != "0";
  if (orphaned && !call->who.is_admin())
    return call->fail(make_error(errc::forbidden,
                                 "orphaned: listing orphaned containers needs "
                                 "the admin role"));
  if (orphaned) return orphaned_list(call, std::move(body));
  if (!call->who.is_admin())
    body["owner"] = call->who.user_id;
  else if (call->query.count("owner"))
    body["owner"] = call->query["owner"];
  directory(call, std::string(common::protocol::names::containers), body);
}

void mesh_api::orphaned_list(const api_call_ptr& call, nlohmann::json body) {
  auto users = s_.users.list();
  if (!users) return call->fail(users.err());
  std::set<std::string> ids;
  for (const auto& u : *users) ids.insert(u.id);
  s_.gateway.control("containers", std::move(body),
                     on_strand(call, [call, ids](common::result<common::envelope> r) {
                       if (!r) return call->fail(r.err());
                       if (r->code != 200) return call->relay(*r);
                       nlohmann::json out = nlohmann::json::array();
                       const auto& list = r->body.value("containers", nlohmann::json::array());
                       for (const auto& c : list.is_array() ? list : nlohmann::json::array())
                         if (!ids.count(c.value("owner", std::string()))) out.push_back(c);
                       call->reply(http::status::ok, {{"containers", out}, {"orphaned", true}});
                     }));
}

void mesh_api::policy_get(api_call_ptr call) {
  auto host = call->query.find("host");
  if (host == call->query.end() || host->second.empty())
    return call->reply(http::status::ok,
                       {{"forbidden_fields", common::forbidden_create_fields()},
                        {"default", common::to_json(common::create_policy{})},
                        {"note", "give ?host=<fqdn> for that host's effective policy"}});
  nlohmann::json msg = {{"action", common::protocol::names::host_info}, {"host", host->second}};
  s_.gateway.send(call->who, msg,
                  on_strand(call, [call, fqdn = host->second](common::result<common::envelope> r) {
                    if (!r) return call->fail(r.err());
                    if (r->code != 200 || !r->body.is_object() || !r->body.contains("policy"))
                      return call->relay(*r);
                    call->reply(http::status::ok, {{"host", fqdn}, {"policy", r->body["policy"]}});
                  }));
}

void mesh_api::container_get(api_call_ptr call) {
  s_.gateway.resolve_container(call->who, call->params["id"],
                               on_strand(call, [call](common::result<nlohmann::json> c) {
                                 if (!c) return call->fail(c.err());
                                 call->reply(http::status::ok, *c);
                               }));
}

void mesh_api::container_remove(api_call_ptr call) {
  nlohmann::json msg = {{"action", common::protocol::names::remove_container},
                        {"id", call->params["id"]}};
  auto force = call->query.find("force");
  if (force != call->query.end()) msg["force"] = force->second == "1" || force->second == "true";
  auto id = idempotency_id(call);
  if (!id) return call->fail(id.err());
  s_.gateway.send(
      call->who, msg,
      on_strand(call, [call](common::result<common::envelope> r) { relay_or_fail(call, r); }), *id);
}

void mesh_api::messages(api_call_ptr call) {
  auto body = call->json_body();
  if (!body) return;
  auto id = idempotency_id(call);
  if (!id) return call->fail(id.err());
  s_.gateway.send(
      call->who, *body,
      on_strand(call, [call](common::result<common::envelope> r) { relay_or_fail(call, r); }), *id);
}

void mesh_api::catalogue(api_call_ptr call) {
  static const nlohmann::json doc =
      common::protocol::to_json(common::protocol::catalogue::builtin());
  call->reply(http::status::ok, doc);
}

void mesh_api::schema_get(api_call_ptr call) {
  const auto& name = call->params["name"];
  const nlohmann::json* doc = s_.gateway.schemas().document(name);
  if (!doc) return call->fail(make_error(errc::not_found, "no schema called '" + name + "'"));
  call->reply(http::status::ok, *doc);
}

void mesh_api::images_list(api_call_ptr call) {
  auto host = call->query.find("host");
  if (host == call->query.end() || host->second.empty())
    return call->fail(make_error(errc::invalid_argument, "host: give ?host=<fqdn>"));
  nlohmann::json msg = {{"action", common::protocol::names::list_images}, {"host", host->second}};
  s_.gateway.send(call->who, msg, on_strand(call, [call](common::result<common::envelope> r) {
                    relay_or_fail(call, r);
                  }));
}

void mesh_api::job_accepted(const api_call_ptr& call, const common::result<job>& j) {
  if (!j) return call->fail(j.err());
  std::string location = "/api/v1/jobs/" + j->id;
  call->respond(redirect_response(call->req, http::status::accepted, location, to_json(*j)));
}

void mesh_api::containers_create(api_call_ptr call) {
  auto body = call->json_body();
  if (!body) return;
  auto id = idempotency_id(call);
  if (!id) return call->fail(id.err());
  job_accepted(call, s_.runner.start_create(call->who, *body, *id));
}

void mesh_api::images_pull(api_call_ptr call) {
  auto body = call->json_body();
  if (!body) return;
  job_accepted(call, s_.runner.start_pull(call->who, *body));
}

void mesh_api::jobs_get(api_call_ptr call) {
  auto j = s_.jobs.get(call->params["id"], common::now_ms());
  // Another user's job is "not found": job ids are not a way to learn about others' work.
  if (!j || (j->user != call->who.user_id && !call->who.is_admin()))
    return call->fail(make_error(errc::not_found, "no job " + call->params["id"]));
  if (j->state == job_state::done && !j->location.empty())
    return call->respond(
        redirect_response(call->req, http::status::see_other, j->location, to_json(*j)));
  call->reply(http::status::ok, to_json(*j));
}

}  // namespace dockmesh::bridge
