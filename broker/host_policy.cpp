#include "broker/host_policy.hpp"

#include "common/ownership.hpp"
#include "common/service_spec.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;

std::int64_t int_of(const json& j, const char* field, std::int64_t fallback) {
  auto it = j.find(field);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

// An optional field of a set call: absent leaves `out` alone; a wrong type or range is a 400.
common::result<void> read_bool(const json& body, const char* field, bool& out) {
  auto it = body.find(field);
  if (it == body.end()) return {};
  if (!it->is_boolean())
    return make_error(errc::invalid_argument, std::string(field) + " must be true or false");
  out = it->get<bool>();
  return {};
}

common::result<void> read_int(const json& body, const char* field, std::int64_t low,
                              std::int64_t high, std::int64_t& out) {
  auto it = body.find(field);
  if (it == body.end()) return {};
  if (!it->is_number_integer() || it->get<std::int64_t>() < low || it->get<std::int64_t>() > high)
    return make_error(errc::invalid_argument, std::string(field) + " must be an integer from " +
                                                  std::to_string(low) + " to " +
                                                  std::to_string(high));
  out = it->get<std::int64_t>();
  return {};
}

common::result<std::string> read_pool(const json& body, std::string current) {
  auto it = body.find("pool");
  if (it == body.end()) return current;
  const char* rule =
      "pool must be \"\" or \"shared\" (the shared pool), a user id (u + 32 hex) or "
      "team:<name>";
  if (!it->is_string()) return make_error(errc::invalid_argument, rule);
  std::string pool = it->get<std::string>();
  if (pool == "shared") pool.clear();
  auto team = common::team_of_pool(pool);
  if (!pool.empty() && !common::is_user_id(pool) && !common::valid_object_name(team))
    return make_error(errc::invalid_argument, rule);
  return pool;
}

}  // namespace

host_policy host_policy::from_json(const json& r) {
  host_policy p;
  p.fqdn = r.value("fqdn", r.value("id", ""));
  p.pool = r.value("pool", "");
  p.cordoned = r.value("cordoned", false);
  p.draining = r.value("draining", false);
  const json drain = r.value("drain", json::object());
  p.drain_batch = static_cast<int>(int_of(drain, "batch", 1));
  p.drain_deadline = int_of(drain, "deadline", 0);
  p.drain_all = drain.value("all", false);
  p.version = int_of(r, "version", 0);
  p.updated = int_of(r, "updated", 0);
  return p;
}

json host_policy::to_json() const {
  return {{"id", fqdn},
          {"fqdn", fqdn},
          {"pool", pool},
          {"cordoned", cordoned},
          {"draining", draining},
          {"drain", {{"batch", drain_batch}, {"deadline", drain_deadline}, {"all", drain_all}}},
          {"version", version},
          {"updated", updated}};
}

user_quota user_quota::from_json(const json& r) {
  return {r.value("user", r.value("id", "")), int_of(r, "containers", 0), int_of(r, "memory", 0)};
}

json user_quota::to_json() const {
  return {{"id", user}, {"user", user}, {"containers", containers}, {"memory", memory}};
}

host_policy host_policy_book::policy_of(const std::string& fqdn) const {
  const auto& all = registry_.records_of(record_kind::host_policy);
  auto it = all.find(fqdn);
  if (it == all.end()) {
    host_policy open;
    open.fqdn = fqdn;
    return open;
  }
  return host_policy::from_json(it->second);
}

std::optional<user_quota> host_policy_book::quota_of(const std::string& user) const {
  const auto& all = registry_.records_of(record_kind::quota);
  auto it = all.find(user);
  if (it == all.end()) return std::nullopt;
  return user_quota::from_json(it->second);
}

common::result<json> host_policy_book::set_policy(const json& body, std::int64_t now_ms) {
  std::string fqdn = body.value("fqdn", "");
  if (!common::valid_segment(fqdn))
    return make_error(errc::invalid_argument, "fqdn must name a host");
  host_policy p = policy_of(fqdn);
  auto pool = read_pool(body, p.pool);
  if (!pool) return pool.err();
  if (auto team = std::string(common::team_of_pool(*pool)); !team.empty() && !teams_.exists(team))
    return make_error(errc::not_found, "no team '" + team + "' (create it with team-set first)");
  p.pool = *pool;
  bool was_draining = p.draining;
  std::int64_t batch = p.drain_batch, deadline_s = 0;
  for (auto r : {read_bool(body, "cordoned", p.cordoned), read_bool(body, "draining", p.draining),
                 read_bool(body, "all", p.drain_all), read_int(body, "batch", 1, 1000, batch),
                 read_int(body, "deadline_s", 0, 7 * 86400, deadline_s)})
    if (!r) return r.err();
  p.drain_batch = static_cast<int>(batch);
  if (p.draining && (!was_draining || body.contains("deadline_s")))
    p.drain_deadline = deadline_s > 0 ? now_ms + deadline_s * 1000 : 0;
  if (!p.draining) {
    p.drain_deadline = 0;
    p.drain_all = false;
  }
  p.version += 1;
  p.updated = now_ms;
  json record = p.to_json();
  if (auto w = registry_.put_record(record_kind::host_policy, fqdn, &record); !w) return w.err();
  if (changed_) changed_(fqdn);
  return record;
}

common::result<json> host_policy_book::set_quota(const json& body, std::int64_t now_ms) {
  std::string user = body.value("user", "");
  if (!common::is_user_id(user))
    return make_error(errc::invalid_argument, "user must be a user id (u + 32 hex)");
  user_quota q = quota_of(user).value_or(user_quota{user, 0, 0});
  for (auto r : {read_int(body, "containers", 0, 1000000, q.containers),
                 read_int(body, "memory", 0, std::int64_t{1} << 50, q.memory)})
    if (!r) return r.err();
  if (q.containers == 0 && q.memory == 0) {
    if (auto w = registry_.put_record(record_kind::quota, user, nullptr); !w) return w.err();
    return json{{"id", user}, {"user", user}, {"containers", 0}, {"memory", 0}, {"deleted", true}};
  }
  const auto& all = registry_.records_of(record_kind::quota);
  auto held = all.find(user);
  json record = q.to_json();
  record["version"] = (held == all.end() ? 0 : int_of(held->second, "version", 0)) + 1;
  record["updated"] = now_ms;
  if (auto w = registry_.put_record(record_kind::quota, user, &record); !w) return w.err();
  return record;
}

json host_policy_book::policies() const {
  json out = json::array();
  for (const auto& [fqdn, r] : registry_.records_of(record_kind::host_policy))
    out.push_back(host_policy::from_json(r).to_json());
  return out;
}

json host_policy_book::quotas(const std::string& user) const {
  json out = json::array();
  for (const auto& [id, r] : registry_.records_of(record_kind::quota))
    if (user.empty() || id == user) out.push_back(r);
  return out;
}

std::optional<gate_refusal> host_policy_book::check_targeted(std::string_view host,
                                                             const common::envelope& req) const {
  if (req.is_reply() || common::role_of_envelope(req.role) == common::role::admin)
    return std::nullopt;
  const auto& all = registry_.records_of(record_kind::host_policy);
  auto it = all.find(std::string(host));
  if (it == all.end()) return std::nullopt;
  std::string pool = it->second.value("pool", "");
  // The user's teams matter only on a team's host (reading them walks every team).
  std::vector<std::string> teams;
  if (!common::team_of_pool(pool).empty()) teams = teams_.teams_of(req.user);
  if (common::pool_admits(pool, req.user, false, teams)) return std::nullopt;
  return gate_refusal{403,
                      "host " + std::string(host) +
                          " belongs to another customer's pool: you may use the shared pool, "
                          "your own and your teams'",
                      {{"host", host}}};
}

}  // namespace dockmesh::broker
