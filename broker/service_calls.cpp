#include "broker/service_calls.hpp"

#include <array>

#include "common/protocol/names.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;
namespace names = common::protocol::names;

constexpr std::array<std::string_view, 9> calls{
    names::project_create, names::project_list,  names::project_delete,
    names::service_create, names::service_list,  names::service_get,
    names::service_update, names::service_scale, names::service_delete};

// A string field of the body: "" when absent; an error when present with another type.
common::result<std::string> text(const json& body, const char* field, bool required) {
  auto it = body.find(field);
  if (it == body.end()) {
    if (required) return make_error(errc::invalid_argument, std::string(field) + " is required");
    return std::string();
  }
  if (!it->is_string() || it->get_ref<const std::string&>().size() > 128)
    return make_error(errc::invalid_argument, std::string(field) + " must be a string (<= 128)");
  if (required && it->get_ref<const std::string&>().empty())
    return make_error(errc::invalid_argument, std::string(field) + " must not be empty");
  return it->get<std::string>();
}

common::result<service_caller> caller_of(role r, const json& body) {
  auto user = text(body, "user", r == role::bridge);
  if (!user) return user.err();
  auto admin = body.find("admin");
  if (admin != body.end() && !admin->is_boolean())
    return make_error(errc::invalid_argument, "admin must be true or false");
  bool is_admin = r == role::admin || (admin != body.end() && admin->get<bool>());
  return service_caller{*user, is_admin};
}

}  // namespace

bool is_service_call(std::string_view action) {
  for (auto c : calls)
    if (c == action) return true;
  return false;
}

common::result<json> service_calls::handle(role r, const common::envelope& req,
                                           std::int64_t now_ms) {
  const json body = req.body.is_null() ? json::object() : req.body;
  if (!body.is_object()) return make_error(errc::invalid_argument, "the body must be an object");
  auto who = caller_of(r, body);
  if (!who) return who.err();
  if (req.action.rfind("project-", 0) == 0) return projects(*who, req, now_ms);
  return services(*who, req, now_ms);
}

common::result<json> service_calls::projects(const service_caller& who, const common::envelope& req,
                                             std::int64_t now_ms) {
  if (req.action == names::project_list) return json{{"projects", registry_.list_projects(who)}};
  if (req.action == names::project_create) {
    auto name = text(req.body.is_object() ? req.body : json::object(), "name", true);
    if (!name) return name.err();
    // The id depends on the request and the user: a retry, or the same request reaching another
    // broker, names the same project.
    return registry_.create_project(
        who, *name, service_registry::derive_id('p', req.id + "/" + who.user), now_ms);
  }
  auto ref = text(req.body.is_object() ? req.body : json::object(), "project", true);
  if (!ref) return ref.err();
  return registry_.delete_project(who, *ref);
}

// What the change would make of the service (replicas, memory per replica), checked against
// its owner's quota before anything is written.
common::result<void> service_calls::within_quota(const service_caller& who,
                                                 const common::envelope& req,
                                                 const json& body) const {
  bool creates = req.action == names::service_create;
  if (!quota_ || who.admin ||
      (!creates && req.action != names::service_scale && req.action != names::service_update))
    return {};
  json spec = body.value("spec", json::object());
  if (!spec.is_object()) return {};  // the registry answers the 400
  std::string owner = who.user, id;
  if (!creates) {
    auto s = registry_.get_service(who, body.value("service", ""));
    if (!s) return {};  // the registry answers the 404
    owner = s->value("owner", "");
    id = s->value("id", "");
    json held = s->value("spec", json::object());
    if (req.action == names::service_scale) spec = {{"replicas", body.value("replicas", json())}};
    held.update(spec);
    spec = held;
  }
  auto int_of = [&](const char* f, std::int64_t fallback) {
    auto it = spec.find(f);
    return it != spec.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
  };
  return quota_(owner, id, int_of("replicas", 1), int_of("memory", 0));
}

common::result<json> service_calls::services(const service_caller& who, const common::envelope& req,
                                             std::int64_t now_ms) {
  // handle() let only an object or null through; null reads as {} (value() on null throws).
  const json body = req.body.is_object() ? req.body : json::object();
  if (auto q = within_quota(who, req, body); !q) return q.err();
  if (req.action == names::service_list) {
    auto project = text(body, "project", false);
    if (!project) return project.err();
    auto list = registry_.list_services(who, *project);
    if (!list) return list.err();
    if (status_)
      for (auto& s : *list) s = status_(std::move(s));
    return json{{"services", std::move(*list)}};
  }
  if (req.action == names::service_create) {
    auto project = text(body, "project", true);
    auto name = text(body, "name", true);
    if (!project) return project.err();
    if (!name) return name.err();
    return registry_.create_service(who, *project, *name, body.value("spec", json()),
                                    service_registry::derive_id('s', req.id + "/" + who.user),
                                    now_ms);
  }
  auto ref = text(body, "service", true);
  if (!ref) return ref.err();
  if (req.action == names::service_get) {
    auto one = registry_.get_service(who, *ref);
    if (one && status_) return status_(std::move(*one));
    return one;
  }
  if (req.action == names::service_delete) return registry_.delete_service(who, *ref);
  if (req.action == names::service_scale) {
    auto n = body.find("replicas");
    if (n == body.end() || !n->is_number_integer())
      return make_error(errc::invalid_argument, "replicas must be an integer");
    return registry_.scale_service(who, *ref, n->get<std::int64_t>(), now_ms);
  }
  return registry_.update_service(who, *ref, body.value("spec", json()), now_ms);
}

}  // namespace dockmesh::broker
