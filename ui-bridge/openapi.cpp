#include "ui-bridge/openapi.hpp"

#include <array>
#include <string>
#include <string_view>

#include "common/protocol/names.hpp"
#include "ui-bridge/router.hpp"

namespace dockmesh::bridge {

namespace names = common::protocol::names;

using nlohmann::json;

namespace {

struct operation {
  std::string_view method;
  std::string_view path;
  std::string_view tag;
  std::string_view summary;
  std::string_view query;  // comma-separated query parameters
  std::string_view body;   // request body: "" none, else a short description of the JSON
  int success;
  bool authenticated = true;
};

// Keep in step with make_api_router() (router.cpp): bridge_tests compares the two.
constexpr std::array<operation, 43> operations = {{
    {"POST", "/api/v1/login", "auth", "a session token for a user name and password", "",
     "{username, password}", 200, false},
    {"GET", "/api/v1/whoami", "auth", "the caller: user, id, role", "", "", 200},
    {"GET", "/api/v1/tokens", "auth", "the caller's API tokens (admins: ?all=1)", "all", "", 200},
    {"POST", "/api/v1/tokens", "auth", "a new API token (its secret is shown once)", "",
     "{name, ttl_s?}", 201},
    {"DELETE", "/api/v1/tokens/{id}", "auth", "revoke an API token", "", "", 200},
    {"GET", "/api/v1/users", "users", "every user (admins)", "", "", 200},
    {"POST", "/api/v1/users", "users", "add a user (admins)", "", "{name, password, role}", 201},
    {"DELETE", "/api/v1/users/{name}", "users", "remove a user (admins)", "", "", 200},
    {"PUT", "/api/v1/users/{name}/password", "users", "change a password (admins, or the user)", "",
     "{password}", 200},
    {"GET", "/api/v1/hosts", "mesh", "the directory's hosts", "status,label", "", 200},
    {"GET", "/api/v1/audit", "mesh", "the broker's audit log, newest first (admins)",
     "since,user,limit", "", 200},
    {"GET", "/api/v1/hosts/{fqdn}", "mesh", "one host's directory record", "", "", 200},
    {"GET", "/api/v1/containers", "containers", "the caller's containers (admins: all)",
     "host,owner,orphaned", "", 200},
    {"POST", "/api/v1/containers", "containers",
     "create-container as a job (202, Location: the job)", "",
     "create-container arguments + host or placement fields", 202},
    {"GET", "/api/v1/containers/{id}", "containers",
     "a container's directory record (ownership checked)", "", "", 200},
    {"DELETE", "/api/v1/containers/{id}", "containers", "removes a container", "force", "", 200},
    {"GET", "/api/v1/jobs/{id}", "jobs",
     "a job (create-container, pull-image, service-update); 303 to its container once created", "",
     "", 200},
    {"GET", "/api/v1/images", "images", "list-images on one host", "host", "", 200},
    {"POST", "/api/v1/images/pull", "images", "pull on the named hosts as a job (202)", "",
     "{image, hosts, auth?}", 202},
    {"POST", "/api/v1/messages", "messages", "any agent action the catalogue lets the bridge send",
     "", "{action, host?, ...arguments}", 200},
    {"GET", "/api/v1/catalogue", "messages", "the protocol catalogue", "", "", 200},
    {"GET", "/api/v1/schemas/{name}", "messages", "one JSON Schema a catalogue entry names", "", "",
     200},
    {"GET", "/api/v1/policy", "mesh", "the create policy (?host= for that host's)", "host", "",
     200},
    {"GET", "/api/v1/ws", "events", "WebSocket: events, job progress, messages (needs an Upgrade)",
     "", "", 101},
    {"GET", "/api/v1/openapi.json", "meta", "this document", "", "", 200, false},
    // Projects and services (docs/services.md).
    {"GET", "/api/v1/projects", "services", "the caller's projects (admins: all)", "", "", 200},
    {"POST", "/api/v1/projects", "services", "create a project (name unique per user)", "",
     "{name}", 201},
    {"DELETE", "/api/v1/projects/{id}", "services", "delete a project without services", "", "",
     200},
    {"GET", "/api/v1/services", "services", "the caller's services", "project", "", 200},
    {"POST", "/api/v1/services", "services", "create a service in a project", "",
     "{project, name, spec}", 201},
    {"GET", "/api/v1/services/{id}", "services", "one service", "", "", 200},
    {"PATCH", "/api/v1/services/{id}", "services",
     "change a service's spec; the record, plus job and job_location of a service-update job "
     "when a rolling update starts",
     "", "changed spec fields", 200},
    {"DELETE", "/api/v1/services/{id}", "services", "delete a service", "", "", 200},
    {"POST", "/api/v1/services/{id}/scale", "services", "set the replica count", "", "{replicas}",
     200},
    // Host pools, cordon, drain, quotas (docs/services.md).
    {"GET", "/api/v1/host-policies", "pools", "every host policy, with drain progress (admins)", "",
     "", 200},
    {"PUT", "/api/v1/hosts/{fqdn}/policy", "pools", "set a host's pool, cordon or drain (admins)",
     "", "{pool, cordoned, draining, batch, deadline_s, all}", 200},
    {"GET", "/api/v1/quotas", "pools", "the users' quotas (users: their own)", "", "", 200},
    {"PUT", "/api/v1/quotas/{user}", "pools", "set a user's quota (admins)", "",
     "{containers, memory}", 200},
    {"GET", "/api/v1/teams", "pools", "the teams (users: the teams they are in)", "", "", 200},
    {"PUT", "/api/v1/teams/{name}", "pools", "create a team or replace its members (admins)", "",
     "{members}", 200},
    {"DELETE", "/api/v1/teams/{name}", "pools", "delete a team that owns no host (admins)", "", "",
     200},
    // Stats history (docs/bridge.md).
    {"GET", "/api/v1/containers/{id}/stats/history", "stats",
     "a container's usage samples (ownership checked)", "since", "", 200},
    {"GET", "/api/v1/hosts/{fqdn}/stats/history", "stats",
     "a host's usage samples, its containers summed (admins)", "since", "", 200},
}};

json parameters(const operation& op) {
  json out = json::array();
  std::string_view p = op.path;
  for (auto open = p.find('{'); open != std::string_view::npos; open = p.find('{', open + 1)) {
    auto close = p.find('}', open);
    out.push_back({{"name", std::string(p.substr(open + 1, close - open - 1))},
                   {"in", "path"},
                   {"required", true},
                   {"schema", {{"type", "string"}}}});
  }
  std::string_view q = op.query;
  while (!q.empty()) {
    auto comma = q.find(',');
    out.push_back({{"name", std::string(q.substr(0, comma))},
                   {"in", "query"},
                   {"required", false},
                   {"schema", {{"type", "string"}}}});
    q = comma == std::string_view::npos ? std::string_view() : q.substr(comma + 1);
  }
  return out;
}

json operation_json(const operation& op) {
  json error = {{"$ref", "#/components/responses/error"}};
  json o = {{"tags", {std::string(op.tag)}},
            {"summary", std::string(op.summary)},
            {"parameters", parameters(op)},
            {"responses",
             {{std::to_string(op.success), {{"description", "success"}}},
              {"400", error},
              {"401", error},
              {"403", error},
              {"404", error}}}};
  if (!op.body.empty())
    o["requestBody"] = {
        {"required", true},
        {"content",
         {{"application/json",
           {{"schema", {{"type", "object"}, {"description", std::string(op.body)}}}}}}}};
  if (!op.authenticated) o["security"] = json::array();
  return o;
}

// A job as GET /api/v1/jobs/{id} and the WebSocket's job frames give it (docs/bridge.md "Jobs").
json job_schema() {
  json text = {{"type", "string"}};
  json number = {{"type", "integer"}};
  json progress = {
      {"type", "object"},
      {"description",
       "create-container: {stage, host, containers}; pull-image: {image, hosts: {fqdn: {state, "
       "current, total}}}; service-update: {service, generation, state, updated, replicas, "
       "batches, deadline, error?, failed_generation?, rollback_generation?}"}};
  return {{"type", "object"},
          {"required", json::array({"id", "kind", "state", "progress"})},
          {"properties",
           {{"id", text},
            {"kind",
             {{"type", "string"},
              {"enum",
               {std::string(names::create_container), std::string(names::pull_image),
                std::string(names::service_update)}}}},
            {"user", text},
            {"state", {{"type", "string"}, {"enum", {"running", "done", "failed"}}}},
            {"created", number},
            {"updated", number},
            {"finished", number},
            {"status", number},
            {"progress", progress},
            {"result", json::object()},
            {"error", {{"type", "object"}}},
            {"location", text}}}};
}

json build() {
  json paths = json::object();
  for (const auto& op : operations) {
    std::string method(op.method);
    for (auto& c : method) c = static_cast<char>(c - 'A' + 'a');
    paths[std::string(op.path)][method] = operation_json(op);
  }
  paths["/api/v1/jobs/{id}"]["get"]["responses"]["200"]["content"] = {
      {"application/json", {{"schema", {{"$ref", "#/components/schemas/job"}}}}}};
  json message = {
      {"type", "object"},
      {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}};
  json error_schema = {{"type", "object"},
                       {"required", json::array({"error"})},
                       {"properties", {{"error", message}}}};
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "dockmesh bridge REST API"},
            {"version", "1"},
            {"description",
             "The bridge's own API (docs/bridge.md). The Docker-compatible endpoint is separate: "
             "docs/docker-api.md."}}},
          {"paths", paths},
          {"security", {{{"bearer", json::array()}}}},
          {"components",
           {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
            {"schemas", {{"job", job_schema()}}},
            {"responses",
             {{"error",
               {{"description", "{error: {code, message}}"},
                {"content", {{"application/json", {{"schema", error_schema}}}}}}}}}}}};
}

}  // namespace

const json& openapi_document() {
  static const json doc = build();
  return doc;
}

}  // namespace dockmesh::bridge
