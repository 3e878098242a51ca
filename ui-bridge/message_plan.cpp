#include "ui-bridge/message_plan.hpp"

#include <array>
#include <map>

#include "common/topic.hpp"
#include "ui-bridge/json_fields.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
using namespace std::chrono_literals;

std::optional<action_rule> find_action_rule(std::string_view action,
                                            const common::protocol::catalogue& cat) {
  const auto* spec = cat.find(action, common::protocol::message_kind::agent_action);
  if (!spec || !spec->senders.has(common::protocol::role::bridge)) return std::nullopt;
  return action_rule{spec->target, spec->admin_only, spec->timeout, spec->body_schema};
}

namespace {

common::result<void> refuse_broadcast(const nlohmann::json& message) {
  auto all = message.find("all");
  auto host = message.value("host", nlohmann::json()).is_string()
                  ? message["host"].get<std::string>()
                  : std::string();
  if ((all != message.end() && *all != false) || host == "*" || host == "all")
    return make_error(errc::forbidden,
                      "broadcasts (req/all/) are not allowed through the bridge, for any role; "
                      "send to one host at a time");
  return {};
}

// The body against the entry's schema; an entry without one takes no arguments.
common::result<void> validate_body(const schema_registry& schemas, const action_rule& rule,
                                   const nlohmann::json& body) {
  if (!rule.body_schema.empty()) return schemas.validate(rule.body_schema, body);
  if (body.empty()) return {};
  return make_error(errc::invalid_argument, "this action takes no arguments");
}

// The scheduler's fields of create-container (see broker/scheduler.hpp). They are not in
// schemas/create-container.json because agents never see them: the scheduling broker strips them.
// So the bridge checks them itself, with a schema of its own.
const schema_registry& placement_schema() {
  static const schema_registry reg = [] {
    schema_registry r;
    nlohmann::json fqdn = {{"type", "string"}, {"pattern", "^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$"}};
    r.add("placement", nlohmann::json::parse(R"({
      "type": "object",
      "properties": {
        "constraints": {"type": "array", "maxItems": 64,
          "items": {"type": "string", "maxLength": 512, "pattern": "^[^=!]+(==|!=).*$"}},
        "strategy": {"enum": ["spread", "binpack", "random"]},
        "unique": {"type": "boolean"}
      }
    })"));
    return r;
  }();
  return reg;
}

constexpr std::array<const char*, 4> placement_fields = {"constraints", "strategy", "candidates",
                                                         "unique"};

// Splits the placement fields off a create body, checks them, and puts them back.
common::result<void> check_placement(message_plan& plan, const schema_registry& schemas) {
  nlohmann::json placement = nlohmann::json::object();
  for (const char* f : placement_fields)
    if (plan.body.contains(f)) placement[f] = plan.body[f];
  if (!placement.empty() && !plan.host.empty())
    return make_error(errc::invalid_argument,
                      "constraints, strategy, candidates and unique apply to automatic placement "
                      "only; drop them or the host");
  if (auto ok = placement_schema().validate("placement", placement); !ok) return ok.err();
  if (placement.contains("candidates")) {
    const auto& c = placement["candidates"];
    if (!c.is_array() || c.size() > 256)
      return make_error(errc::invalid_argument, "candidates: give an array of host names");
    for (const auto& h : c)
      if (!h.is_string() || !common::valid_segment(h.get<std::string>()))
        return make_error(errc::invalid_argument, "candidates: every entry must be an fqdn");
  }
  nlohmann::json rest = plan.body;
  for (const char* f : placement_fields) rest.erase(f);
  return validate_body(schemas, plan.rule, rest);
}

common::result<std::string> message_host(const nlohmann::json& message) {
  auto it = message.find("host");
  if (it == message.end() || it->is_null()) return std::string();
  if (!it->is_string()) return make_error(errc::invalid_argument, "host: must be a string");
  std::string host = it->get<std::string>();
  if (!host.empty() && !common::valid_segment(host))
    return make_error(errc::invalid_argument, "host: '" + host.substr(0, 80) + "' is not an fqdn");
  return host;
}

}  // namespace

common::result<message_plan> plan_message(const nlohmann::json& message,
                                          const schema_registry& schemas, const principal& who,
                                          const common::protocol::catalogue& cat) {
  if (!message.is_object())
    return make_error(errc::invalid_argument,
                      "the message must be a JSON object like {\"action\": \"ping\", \"host\": "
                      "\"...\"}");
  auto action = message.find("action");
  if (action == message.end() || !action->is_string() || action->get<std::string>().empty())
    return make_error(errc::invalid_argument, "action: the message needs an \"action\" string");
  if (auto ok = refuse_broadcast(message); !ok) return ok.err();
  message_plan plan;
  plan.action = action->get<std::string>();
  auto rule = find_action_rule(plan.action, cat);
  if (!rule)
    return make_error(errc::invalid_argument, "unknown action '" + plan.action.substr(0, 64) + "'");
  plan.rule = *rule;
  if (rule->admin_only && !who.is_admin())
    return make_error(errc::forbidden, plan.action + " is reserved to admins");
  auto host = message_host(message);
  if (!host) return host.err();
  plan.host = *host;
  if (rule->kind == action_kind::host && plan.host.empty())
    return make_error(errc::invalid_argument, "host: " + plan.action + " needs a \"host\"");
  for (auto& [key, value] : message.items())
    if (key != "action" && key != "host") plan.body[key] = value;
  if (!rule->body_schema.empty() && !schemas.has(rule->body_schema))
    return make_error(errc::internal, "no schema installed for " + plan.action);
  auto valid = rule->kind == action_kind::scheduled ? check_placement(plan, schemas)
                                                    : validate_body(schemas, *rule, plan.body);
  if (!valid) return valid.err();
  if (rule->kind == action_kind::container && !plan.body.value("id", nlohmann::json()).is_string())
    return make_error(errc::invalid_argument, "id: " + plan.action + " needs a container \"id\"");
  return plan;
}

common::envelope make_request(const principal& who, const message_plan& plan) {
  common::envelope env;
  env.action = plan.action;
  env.user = who.user;
  env.role = std::string(to_string(who.role));
  env.body = plan.body;
  return env;
}

bool valid_container_ref(std::string_view ref) {
  if (!ref.empty() && ref.front() == '/') ref.remove_prefix(1);
  if (ref.empty() || ref.size() > 128) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(ref.front())) return false;
  for (char c : ref)
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

common::result<void> check_owner(const principal& who, const nlohmann::json& container,
                                 const std::string& ref) {
  if (who.is_admin()) return {};
  std::string owner = text_of(container, "owner");
  if (owner == who.user) return {};
  if (owner.empty())
    return make_error(errc::forbidden,
                      "container '" + ref + "' has no owner label; only admins may act on it");
  return make_error(errc::forbidden, "container '" + ref + "' belongs to another user");
}

nlohmann::json reply_json(const common::envelope& reply) {
  nlohmann::json out = {{"id", reply.re}, {"from", reply.from}, {"code", reply.code}};
  if (reply.err)
    out["error"] = {{"code", common::to_string(reply.err->code)}, {"message", reply.err->message}};
  else
    out["body"] = reply.body;
  if (reply.err && !reply.body.is_null()) out["body"] = reply.body;
  return out;
}

int reply_status(const common::envelope& reply) {
  if (reply.code >= 200 && reply.code <= 599) return reply.code;
  return 502;
}

}  // namespace dockmesh::bridge
