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

constexpr std::array<std::string_view, 4> calls{names::host_policy_set, names::host_policy_list,
                                                names::quota_set, names::quota_list};

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
  bool setting = req.action == names::host_policy_set || req.action == names::quota_set;
  if (setting && !admin_caller(r, body))
    return make_error(errc::forbidden, req.action + " is for admins");
  body.erase("admin");
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
