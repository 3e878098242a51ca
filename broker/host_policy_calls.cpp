#include "broker/host_policy_calls.hpp"

#include <array>

#include "broker/reconcile_plan.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;
namespace names = common::protocol::names;

constexpr std::array<std::string_view, 7> calls{
    names::host_policy_set, names::host_policy_list, names::quota_set, names::quota_list,
    names::team_set,        names::team_delete,      names::team_list};

// An admin key, or the bridge for a user it says is an admin.
bool admin_caller(role r, const json& body) {
  if (r == role::admin) return true;
  auto a = body.find("admin");
  return r == role::bridge && a != body.end() && a->is_boolean() && a->get<bool>();
}

}  // namespace

bool is_policy_call(std::string_view action) {
  for (auto c : calls)
    if (c == action) return true;
  return false;
}

// Admins see every team (or one user's, with `user`); the bridge acting for a user sees the
// teams that list that user, and nothing without one.
json host_policy_calls::team_list(bool admin, const json& body) const {
  auto user = body.find("user");
  std::string who = user != body.end() && user->is_string() ? user->get<std::string>() : "";
  if (!admin && who.empty()) return json{{"teams", json::array()}};
  return json{{"teams", book_.teams().teams(who)}};
}

int host_policy_calls::replicas_on(const container_index& containers, const std::string& fqdn) {
  int n = 0;
  for (const auto& c : containers.on_host(fqdn))
    if (parse_replica_request(c.request)) ++n;
  return n;
}

common::result<json> host_policy_calls::handle(role r, const common::envelope& req,
                                               std::int64_t now_ms) {
  json body = req.body.is_null() ? json::object() : req.body;
  if (!body.is_object()) return make_error(errc::invalid_argument, "the body must be an object");
  bool setting = req.action == names::host_policy_set || req.action == names::quota_set ||
                 req.action == names::team_set || req.action == names::team_delete;
  bool admin = admin_caller(r, body);
  if (setting && !admin) return make_error(errc::forbidden, req.action + " is for admins");
  body.erase("admin");
  if (req.action == names::team_set) return book_.teams().set_team(body, now_ms);
  if (req.action == names::team_delete) {
    auto name = body.find("name");
    if (name == body.end() || !name->is_string())
      return make_error(errc::invalid_argument, "name must name a team");
    return book_.teams().delete_team(name->get<std::string>());
  }
  if (req.action == names::team_list) return team_list(admin, body);
  if (req.action == names::host_policy_set) return book_.set_policy(body, now_ms);
  if (req.action == names::quota_set) return book_.set_quota(body, now_ms);
  if (req.action == names::quota_list) {
    auto user = body.find("user");
    return json{
        {"quotas", book_.quotas(user != body.end() && user->is_string() ? user->get<std::string>()
                                                                        : std::string())}};
  }
  json list = book_.policies();
  for (auto& p : list)
    if (p.value("draining", false))
      p["replicas_left"] = replicas_on(containers_, p.value("fqdn", ""));
  return json{{"policies", std::move(list)}};
}

}  // namespace dockmesh::broker
