#include "broker/control_service.hpp"

#include "broker/directory_snapshot.hpp"
#include "common/json_fields.hpp"

#include <array>
#include <stdexcept>

#include "common/log.hpp"
#include "common/protocol/catalogue.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::envelope;
using common::errc;
using nlohmann::json;

std::string body_string(const envelope& req, const char* field) {
  return common::str_of(req.body, field);
}

namespace names = common::protocol::names;
using common::protocol::catalogue;
using common::protocol::message_kind;
using common::protocol::message_spec;

// Which part of the service answers each control call of the catalogue.
enum class part { enroll, queries, key_admin, audit, services, snapshot, policies };

struct route {
  std::string_view name;
  part to;
};

constexpr std::array<route, 29> routes{{
    {names::enroll, part::enroll},
    {names::hosts, part::queries},
    {names::host, part::queries},
    {names::containers, part::queries},
    {names::container, part::queries},
    {names::keys_list, part::key_admin},
    {names::keys_accept, part::key_admin},
    {names::keys_reject, part::key_admin},
    {names::keys_revoke, part::key_admin},
    {names::token_create, part::key_admin},
    {names::stats, part::key_admin},
    {names::audit, part::audit},
    {names::directory_snapshot, part::snapshot},  // peer brokers (directory_snapshot.hpp)
    // Projects and services (service_calls).
    {names::project_create, part::services},
    {names::project_list, part::services},
    {names::project_delete, part::services},
    {names::service_create, part::services},
    {names::service_list, part::services},
    {names::service_get, part::services},
    {names::service_update, part::services},
    {names::service_scale, part::services},
    {names::service_delete, part::services},
    // Host pools, cordon, drain, quotas (host_policy_calls).
    {names::host_policy_set, part::policies},
    {names::host_policy_list, part::policies},
    {names::quota_set, part::policies},
    {names::quota_list, part::policies},
    {names::team_set, part::policies},
    {names::team_delete, part::policies},
    {names::team_list, part::policies},
}};

const route* route_of(std::string_view action) {
  for (const auto& r : routes)
    if (r.name == action) return &r;
  return nullptr;
}

std::string refusal(const message_spec& spec) {
  if (spec.senders == common::protocol::role_set{role::broker})
    return spec.name + " is for brokers only";
  return spec.name + (spec.admin_only ? " needs an admin key" : " needs an admin or bridge key");
}

}  // namespace

void check_control_routes(const catalogue& cat) {
  for (const auto* spec : cat.of_kind(message_kind::control_call))
    if (!route_of(spec->name))
      throw std::logic_error("control call '" + spec->name + "' has no handler in the broker");
  for (const auto& r : routes)
    if (!cat.find(r.name, message_kind::control_call))
      throw std::logic_error("the broker handles '" + std::string(r.name) +
                             "', which is no control call of the catalogue");
}

control_service::control_service(key_store& keys, join_tokens& tokens, host_directory& hosts,
                                 container_index& containers, std::string broker_client_id)
    : keys_(keys),
      tokens_(tokens),
      hosts_(hosts),
      containers_(containers),
      client_id_(std::move(broker_client_id)) {
  check_control_routes(catalogue::builtin());
}

control_outcome control_service::ok(const envelope& req, int code, json body) const {
  return {common::make_reply(req, client_id_, code, std::move(body)), false};
}

control_outcome control_service::fail(const envelope& req, errc code, std::string message) const {
  return {common::make_error_reply(req, client_id_, {code, std::move(message)}), false};
}

role control_service::effective_role(const identity& who, std::string_view public_key) const {
  if (who.who == role::broker || who.who == role::pending || who.who == role::unknown)
    return who.who;
  const key_entry* e = keys_.find(public_key);
  if (!e || e->state != key_state::accepted) return role::unknown;  // revoked since it connected
  return e->who;
}

control_outcome control_service::handle(const identity& who, std::string_view public_key,
                                        const envelope& req, std::int64_t now_ms) {
  role r = effective_role(who, public_key);
  const auto* spec = catalogue::builtin().find(req.action, message_kind::control_call);
  const route* to = spec ? route_of(spec->name) : nullptr;
  // enroll answers every key: an accepted one gets its entry back, a refused one is told why.
  if (to && to->to == part::enroll) return enroll(r, public_key, req, now_ms);
  if (to && !spec->senders.has(r)) return fail(req, errc::forbidden, refusal(*spec));
  if (to && to->to == part::queries) return queries(r, req);
  if (to && to->to == part::services) return service_call(r, req, now_ms);
  if (to && to->to == part::policies) return policy_call(r, req, now_ms);
  if (to && to->to == part::audit) return audit(req);
  if (to && to->to == part::snapshot)
    return ok(req, 200, make_directory_snapshot(hosts_, containers_, client_id_, now_ms));
  if (to) return key_admin(req, now_ms);
  bool reader = r == role::admin || r == role::bridge || r == role::broker;
  // Authorization before validation: a key that may only enroll learns nothing about which
  // other actions exist (found by fuzz_broker_core: a pending key got 400 for an unknown one).
  if (!reader) return fail(req, errc::forbidden, "this key may only enroll");
  return fail(req, errc::invalid_argument,
              "unknown control action '" + req.action.substr(0, 64) + "'");
}

control_outcome control_service::service_call(role r, const envelope& req, std::int64_t now_ms) {
  if (!services_) return fail(req, errc::unavailable, "this broker keeps no services");
  auto out = services_->handle(r, req, now_ms);
  if (!out) return fail(req, out.err().code, out.err().message);
  bool created = req.action == names::project_create || req.action == names::service_create;
  return ok(req, created ? 201 : 200, std::move(*out));
}

control_outcome control_service::policy_call(role r, const envelope& req, std::int64_t now_ms) {
  if (!policies_) return fail(req, errc::unavailable, "this broker keeps no host policies");
  auto out = policies_->handle(r, req, now_ms);
  if (!out) return fail(req, out.err().code, out.err().message);
  return ok(req, 200, std::move(*out));
}

control_outcome control_service::audit(const envelope& req) const {
  if (!audit_) return ok(req, 200, {{"entries", json::array()}});
  auto q = audit_(req.body);
  if (!q) return fail(req, q.err().code, q.err().message);
  return ok(req, 200, std::move(*q));
}

control_outcome control_service::queries(role, const envelope& req) {
  if (req.action == names::hosts) {
    std::optional<host_status> status;
    if (auto s = body_string(req, "status"); !s.empty()) {
      status = parse_host_status(s);
      if (!status) return fail(req, errc::invalid_argument, "status must be up, down or gone");
    }
    std::string label = body_string(req, "label"), key, value;
    if (!label.empty()) {
      auto eq = label.find('=');
      if (eq == std::string::npos || eq == 0)
        return fail(req, errc::invalid_argument, "label must look like key=value");
      key = label.substr(0, eq);
      value = label.substr(eq + 1);
    }
    json list = hosts_.list(status, key, value);
    if (host_view_)
      for (auto& h : list) host_view_(h);
    return ok(req, 200, {{"hosts", std::move(list)}});
  }
  if (req.action == names::host) {
    const host_entry* h = hosts_.find(body_string(req, "fqdn"));
    if (!h) return fail(req, errc::not_found, "no host '" + body_string(req, "fqdn") + "'");
    json one = h->to_json();
    if (host_view_) host_view_(one);
    return ok(req, 200, std::move(one));
  }
  if (req.action == names::containers) {
    json list = containers_.list(body_string(req, "host"), body_string(req, "owner"));
    for (auto& c : list) with_host_state(c);
    return ok(req, 200, {{"containers", std::move(list)}});
  }
  auto c = containers_.lookup(body_string(req, "ref"), body_string(req, "owner"));
  if (!c) return fail(req, c.err().code, c.err().message);
  json out = c->to_json();
  with_host_state(out);
  return ok(req, 200, std::move(out));
}

void control_service::with_host_state(json& c) const {
  // A container of a host that is not up is in no state anyone can vouch for: its last known
  // state stays visible as last_state.
  const host_entry* h = hosts_.find(c.value("host", ""));
  std::string status = h ? std::string(to_string(h->status)) : "unknown";
  c["host_status"] = status;
  if (status == "up") return;
  c["last_state"] = c.value("state", "");
  c["state"] = "unknown";
}

control_outcome control_service::enroll(role r, std::string_view public_key, const envelope& req,
                                        std::int64_t now_ms) {
  const key_entry* e = keys_.find(public_key);
  if (e && e->state == key_state::accepted) return ok(req, 200, e->to_json());
  if (e && e->state != key_state::pending)
    return fail(req, errc::forbidden, "this key is " + std::string(to_string(e->state)));
  if (r != role::pending) return fail(req, errc::forbidden, "this connection cannot enroll");
  std::string fqdn = body_string(req, "fqdn");
  if (!common::valid_segment(fqdn))
    return fail(req, errc::invalid_argument, "enroll needs a valid fqdn");
  std::string token = body_string(req, "token");
  if (!token.empty() && spend_in_etcd_) return enroll_in_etcd(public_key, fqdn, token, req, now_ms);
  if (!token.empty()) {
    // Check for a conflicting key before spending the token.
    auto held = keys_.resolve(fqdn);
    if (held && held->state == key_state::accepted && held->who == role::agent)
      return fail(req, errc::conflict, "another key already speaks for " + fqdn);
    if (tokens_.consume(token, now_ms)) {
      auto accepted = keys_.accept(public_key, role::agent, fqdn, now_ms);
      if (!accepted) return fail(req, accepted.err().code, accepted.err().message);
      DM_LOG(info) << "agent " << fqdn << " enrolled with a join token";
      return ok(req, 200, accepted->to_json());
    }
    DM_LOG(info) << "enroll for " << fqdn << " with an invalid or expired token: left pending";
  }
  if (!keys_.note_pending(public_key, fqdn, now_ms))
    return fail(req, errc::unavailable, "too many pending keys; ask an admin to clean up");
  const key_entry* pending = keys_.find(public_key);
  json body = pending ? pending->to_json() : json::object();
  body["message"] = token.empty()
                        ? "pending: an admin must accept this key"
                        : "token invalid or expired; pending: an admin must accept this key";
  return ok(req, 202, body);
}

control_outcome control_service::enroll_in_etcd(std::string_view public_key,
                                                const std::string& fqdn, const std::string& token,
                                                const envelope& req, std::int64_t now_ms) {
  auto held = keys_.resolve(fqdn);
  if (held && held->state == key_state::accepted && held->who == role::agent)
    return fail(req, errc::conflict, "another key already speaks for " + fqdn);
  if (token.size() > 256 || !keys_.note_pending(public_key, fqdn, now_ms))
    return fail(req, errc::unavailable, "too many pending keys; ask an admin to clean up");
  spend_in_etcd_(join_tokens::hash(token), key_entry{std::string(public_key), role::agent, fqdn,
                                                     key_state::accepted, now_ms});
  const key_entry* pending = keys_.find(public_key);
  json body = pending ? pending->to_json() : json::object();
  body["message"] = "pending: the join token is being checked; accepted on every broker if valid";
  return ok(req, 202, body);
}

control_outcome control_service::key_admin(const envelope& req, std::int64_t now_ms) {
  if (req.action == names::keys_list) {
    json keys = json::array();
    for (const auto& e : keys_.list()) keys.push_back(e.to_json());
    return ok(req, 200, {{"keys", keys}});
  }
  if (req.action == names::stats) return ok(req, 200, stats_ ? stats_() : json::object());
  if (req.action == names::token_create) {
    auto ttl = req.body.is_object() ? req.body.find("ttl_seconds") : req.body.end();
    if (!req.body.is_object() || ttl == req.body.end() || !ttl->is_number_integer())
      return fail(req, errc::invalid_argument, "token-create needs ttl_seconds");
    auto t = tokens_.create(ttl->get<std::int64_t>(), now_ms);
    if (!t) return fail(req, t.err().code, t.err().message);
    return ok(req, 200, {{"token", t->token}, {"expires", t->expires_ms}});
  }
  auto target = keys_.resolve(body_string(req, "key"));
  if (!target) return fail(req, target.err().code, target.err().message);
  bool was_accepted = target->state == key_state::accepted;
  common::result<key_entry> changed = *target;
  if (req.action == names::keys_accept) {
    std::string role_text = body_string(req, "role");
    auto r = parse_key_role(role_text);
    if ((!role_text.empty() && !r) || r == role::broker)
      return fail(req, errc::invalid_argument, "role must be agent, bridge or admin");
    std::string name = body_string(req, "name");
    if (name.empty()) name = target->name;
    if (name.empty())
      return fail(req, errc::invalid_argument, "this key has no name yet: pass name");
    changed = keys_.accept(target->public_key, r ? *r : target->who, name, now_ms);
  } else {
    auto state = req.action == names::keys_revoke ? key_state::revoked : key_state::rejected;
    changed = keys_.set_refused(target->public_key, state, now_ms);
  }
  if (!changed) return fail(req, changed.err().code, changed.err().message);
  DM_LOG(info) << req.action << ": " << to_string(changed->who) << ":" << changed->name
               << " is now " << to_string(changed->state);
  auto out = ok(req, 200, changed->to_json());
  // Live connections carry the identity they had at the handshake: any change to an accepted
  // key's state, role or name makes the hub drop them, so ZAP runs again.
  out.cut_off = was_accepted && (changed->state != key_state::accepted ||
                                 changed->who != target->who || changed->name != target->name);
  return out;
}

}  // namespace dockmesh::broker
