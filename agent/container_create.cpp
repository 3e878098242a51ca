// create-container: template merge, validation, the host's create policy for non-admins
// (create_guard), then one Docker create (+ start) per instance.
// Idempotent by request id: every container carries dockmesh.request=<id> and
// dockmesh.instance=<n>, and on a retry (attempt > 0, even after an agent restart) instances that
// already exist are reported instead of created again.
#include <map>

#include "agent/action_handlers.hpp"
#include "agent/container_spec.hpp"
#include "agent/create_guard.hpp"
#include "agent/created_containers.hpp"
#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"
#include "agent/template_store.hpp"

namespace dockmesh::agent {
namespace {

using common::errc;
using nlohmann::json;

result<json> merged_body(action_context& ctx) {
  const json& body = ctx.request.body;
  if (!body.is_object() || !body.contains("template")) return body;
  const json& t = body["template"];
  if (!t.is_string())
    return common::make_error(errc::invalid_argument, "field 'template' must be a string");
  if (auto ok = check_template_name("template", t.get<std::string>()); !ok) return ok.err();
  const json* tmpl = ctx.templates ? ctx.templates->find(t.get<std::string>()) : nullptr;
  if (!tmpl)
    return common::make_error(
        errc::not_found, "no template named '" + t.get<std::string>() + "' on " + ctx.self.fqdn);
  return template_store::merge(*tmpl, body);
}

struct instance {
  std::string id, name, state;
  bool reused = false, started = false;
  json warnings = json::array();
  json to_json() const {
    return {{"id", id},         {"name", name},       {"state", state},
            {"reused", reused}, {"started", started}, {"warnings", warnings}};
  }
};

// Containers an earlier attempt of this request created, by instance number. Only a retry
// (attempt > 0) can have any: a first attempt skips the lookup, which costs a full container
// list in dockerd (several ms, and more on a busy host).
result<std::map<int, instance>> existing_instances(action_context& ctx) {
  // A caller's idempotency key ("key-...", see common::request_id_from_key) may be a retry even
  // at attempt 0: the caller repeated its HTTP request or dockmeshctl --request-id.
  if (ctx.request.attempt == 0 && ctx.request.id.rfind("key-", 0) != 0)
    return std::map<int, instance>{};
  json filters = {{"label", {std::string(request_label) + "=" + ctx.request.id}}};
  auto list =
      get_json(ctx.docker, "/containers/json" +
                               query_string().add("all", "1").add("filters", filters.dump()).str());
  if (!list) return list.err();
  std::map<int, instance> found;
  for (const auto& c : list->is_array() ? *list : json::array()) {
    json labels = object_of(c, "Labels");
    if (auto ok = check_owner(ctx.request, labels, str_of(c, "Id")); !ok)
      return common::make_error(
          errc::conflict, "request id " + ctx.request.id + " was already used by another user");
    int n = std::atoi(str_of(labels, instance_label, "1").c_str());
    found[n] = instance{str_of(c, "Id"), container_name_of(c), str_of(c, "State"), true,
                        false,           json::array()};
  }
  return found;
}

common::result<void> start(action_context& ctx, instance& in) {
  auto r = post_empty(ctx.docker, "/containers/" + escape_component(in.id) + "/start");
  if (!r)
    return common::make_error(
        r.err().code, "container " + in.id + " was created but did not start: " + r.err().message);
  in.started = true;
  in.state = "running";
  return {};
}

common::result<instance> create_one(action_context& ctx, const common::create_container_args& a,
                                    int index) {
  instance in;
  in.name = instance_name(a, index);
  query_string q;
  if (!in.name.empty()) q.add("name", in.name);
  auto r = post_json(ctx.docker, "/containers/create" + q.str(),
                     docker_create_body(a, ctx.request, index), std::chrono::seconds(60));
  if (!r) return r.err();
  in.id = str_of(*r, "Id");
  if (in.id.empty())
    return common::error{errc::internal, "Docker created a container but sent no id"};
  in.state = "created";
  in.warnings = array_of(*r, "Warnings");
  // When Docker picked the name, the worker fills it in from the inventory it reads before the
  // reply anyway (name_created_containers): no inspect here.
  if (ctx.self.created) ctx.self.created->add(in.id, {ctx.request.user, in.name});
  return in;
}

action_reply reply_for(const std::vector<instance>& done,
                       const std::optional<common::error>& failure) {
  json list = json::array();
  bool all_reused = !done.empty();
  for (const auto& in : done) {
    list.push_back(in.to_json());
    all_reused = all_reused && in.reused;
  }
  json body = {{"containers", list}};
  if (done.size() == 1) {
    body["id"] = done[0].id;
    body["name"] = done[0].name;
  }
  if (failure) {
    action_reply r = error_reply(*failure);
    r.body = std::move(body);
    return r;
  }
  if (all_reused) body["note"] = "already created by an earlier attempt of this request";
  return ok_reply(std::move(body), all_reused ? 200 : 201);
}

}  // namespace

void name_created_containers(action_reply& reply, const std::vector<inventory_entry>* inventory,
                             docker_transport& docker, created_containers* created) {
  // An error reply before any container was made has no list (its body is null): leave it so.
  if (!reply.body.is_object()) return;
  auto found = reply.body.find("containers");
  if (found == reply.body.end() || !found->is_array()) return;
  json& list = *found;
  for (json& c : list) {
    if (!c.is_object() || !str_of(c, "name").empty()) continue;
    std::string id = str_of(c, "id");
    std::string name;
    if (inventory) {
      for (const auto& e : *inventory)
        if (e.id == id) name = e.name;
    } else if (auto inspected = get_json(docker, "/containers/" + escape_component(id) + "/json")) {
      name = container_name_of(*inspected);  // the inventory read failed: ask for this one
    }
    if (name.empty()) continue;
    c["name"] = name;
    if (created) created->set_name(id, name);
  }
  if (list.size() == 1 && reply.body.contains("name")) reply.body["name"] = list[0]["name"];
}

action_reply handle_create_container(action_context& ctx) {
  if (ctx.request.user.empty())
    return error_reply({errc::forbidden, "the request carries no user to own the container"});
  if (auto ok = check_request_id("request id", ctx.request.id); !ok) return error_reply(ok.err());
  // Before parsing, so that a forbidden field is named as such rather than as an unknown one.
  if (!ctx.request.is_admin())
    if (auto ok = common::check_forbidden_fields(ctx.request.body); !ok)
      return error_reply(ok.err());
  auto body = merged_body(ctx);
  if (!body) return error_reply(body.err());
  auto a = common::parse_create_container_args(*body);
  if (!a) return error_reply(a.err());
  if (auto ok = validate_create(*a); !ok) return error_reply(ok.err());
  // Templates get no exemption: the policy applies to the spec the container would really have.
  if (auto ok = enforce_create_policy(ctx, *body, *a); !ok) return error_reply(ok.err());
  auto existing = existing_instances(ctx);
  if (!existing) return error_reply(existing.err());
  std::vector<instance> done;
  for (int i = 1; i <= a->instances; ++i) {
    auto found = existing->find(i);
    instance in;
    if (found != existing->end()) {
      in = found->second;
    } else {
      auto made = create_one(ctx, *a, i);
      if (!made) {
        auto e = made.err();
        if (a->instances > 1)
          e.message = "instance " + std::to_string(i) + " of " + std::to_string(a->instances) +
                      ": " + e.message;
        return reply_for(done, e);
      }
      in = *made;
    }
    if (a->start && in.state == "created")
      if (auto ok = start(ctx, in); !ok) {
        done.push_back(in);
        return reply_for(done, ok.err());
      }
    done.push_back(in);
  }
  return reply_for(done, std::nullopt);
}

}  // namespace dockmesh::agent
