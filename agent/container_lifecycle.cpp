// start-container, stop-container, restart-container, kill-container, remove-container: each looks
// the container up (or, for a full id this agent created lately, finds it in created_containers),
// checks its owner, then acts on the full id it found (never on the name the request gave, so a
// rename between check and act cannot redirect the action).
#include "agent/action_handlers.hpp"
#include "agent/created_containers.hpp"
#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {
namespace {

using nlohmann::json;

struct target {
  std::string id;
  std::string name;
};

result<target> owned_target(action_context& ctx, const std::string& ref) {
  if (auto ok = check_container_ref("id", ref); !ok) return ok.err();
  if (auto known = ctx.self.created ? ctx.self.created->find(ref) : std::nullopt) {
    // Created here moments ago with this owner label (labels never change): no inspect needed.
    json labels = {{std::string(owner_label), known->owner}};
    if (auto ok = check_owner(ctx.request, labels, ref); !ok) return ok.err();
    return target{ref, known->name};
  }
  auto c = load_owned_container(ctx, ref);
  if (!c) return c.err();
  return target{str_of(*c, "Id", ref), container_name_of(*c)};
}

std::string path_for(const target& t, std::string_view verb) {
  return "/containers/" + escape_component(t.id) + "/" + std::string(verb);
}

json done(const target& t, std::string_view what) {
  return {{"id", t.id}, {"name", t.name}, {"result", std::string(what)}};
}

}  // namespace

action_reply handle_start_container(action_context& ctx) {
  auto a = common::parse_container_ref_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  auto t = owned_target(ctx, a->id);
  if (!t) return error_reply(t.err());
  auto r = post_empty(ctx.docker, path_for(*t, "start"));
  if (!r) return error_reply(r.err());
  return ok_reply(with_note(done(*t, "started"), r->status, "already running"));
}

action_reply handle_stop_container(action_context& ctx) {
  auto a = common::parse_stop_container_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  auto t = owned_target(ctx, a->id);
  if (!t) return error_reply(t.err());
  // Docker waits up to t seconds for the process, then kills it: allow for that and some.
  auto r = post_empty(
      ctx.docker, path_for(*t, "stop") + query_string().add("t", std::to_string(a->timeout)).str(),
      std::chrono::seconds(a->timeout + 30));
  if (!r) return error_reply(r.err());
  return ok_reply(with_note(done(*t, "stopped"), r->status, "already stopped"));
}

action_reply handle_restart_container(action_context& ctx) {
  auto a = common::parse_stop_container_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  auto t = owned_target(ctx, a->id);
  if (!t) return error_reply(t.err());
  auto r = post_empty(
      ctx.docker,
      path_for(*t, "restart") + query_string().add("t", std::to_string(a->timeout)).str(),
      std::chrono::seconds(a->timeout + 30));
  if (!r) return error_reply(r.err());
  return ok_reply(done(*t, "restarted"));
}

action_reply handle_kill_container(action_context& ctx) {
  auto a = common::parse_kill_container_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  auto signal = normalize_signal("signal", a->signal);
  if (!signal) return error_reply(signal.err());
  auto t = owned_target(ctx, a->id);
  if (!t) return error_reply(t.err());
  auto r =
      post_empty(ctx.docker, path_for(*t, "kill") + query_string().add("signal", *signal).str());
  if (!r) return error_reply(r.err());
  json body = done(*t, "signalled");
  body["signal"] = *signal;
  return ok_reply(std::move(body));
}

action_reply handle_remove_container(action_context& ctx) {
  auto a = common::parse_remove_container_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  auto t = owned_target(ctx, a->id);
  if (!t) return error_reply(t.err());
  query_string q;
  q.add_flag("force", a->force).add_flag("v", a->volumes);
  auto r = ctx.docker.call({http_method::del,
                            "/containers/" + escape_component(t->id) + q.str(),
                            {},
                            {},
                            std::chrono::seconds(60)});
  if (!r) return error_reply(r.err());
  if (ctx.self.created) ctx.self.created->forget(t->id);
  return ok_reply(done(*t, "removed"));
}

}  // namespace dockmesh::agent
