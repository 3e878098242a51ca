// docker_api's container routes: list, create, inspect, start/stop/restart/kill/remove, stats,
// logs.
#include <algorithm>

#include "common/protocol/names.hpp"
#include "ui-bridge/docker_api.hpp"
#include "ui-bridge/docker_api_translate.hpp"
#include "ui-bridge/json_fields.hpp"

namespace dockmesh::bridge {

using nlohmann::json;
namespace names = common::protocol::names;

void docker_api::containers_list(const docker_call_ptr& call) {
  auto filters = parse_docker_filters(call->param("filters"));
  if (!filters) return call->fail(filters.err());
  // "all" in a bridge message means a broadcast: list every container and filter here.
  json msg = {{"action", names::list_containers}};
  if (!call->flag("all") && !filters->count("status")) (*filters)["status"].push_back("running");
  long limit = -1;
  if (!call->param("limit").empty()) limit = std::atol(call->param("limit").c_str());
  fan_out(call, msg, [call, f = std::move(*filters), limit](common::result<host_results> results) {
    if (!results) return call->fail(results.err());
    json out = json::array();
    for (const auto& [host, r] : *results) {
      if (!r || r->code != 200) continue;  // a host that fails to answer is left out, as if down
      for (const auto& e : list_at(r->body, "containers")) {
        json c = docker_container_summary(e);
        if (container_passes(f, c)) out.push_back(std::move(c));
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) {
      return integer_of(a, "Created") > integer_of(b, "Created");
    });
    if (limit > 0 && out.size() > static_cast<std::size_t>(limit))
      out.erase(out.begin() + limit, out.end());
    call->reply(http::status::ok, out);
  });
}

void docker_api::container_create(const docker_call_ptr& call) {
  auto body = json::parse(call->req.body(), nullptr, false);
  if (body.is_discarded())
    return call->fail(http::status::bad_request, "the body is not valid JSON");
  std::string name = call->param("name");
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  auto msg = mesh_create_message(body, name);
  if (!msg) return call->fail(msg.err());
  send_ok(call, *msg, [this, call, name](const common::envelope& reply) {
    std::string id = text_of(reply.body, "id");
    const json& list = list_at(reply.body, "containers");
    if (id.empty() && list.is_array() && !list.empty()) id = text_of(list[0], "id");
    if (id.empty())
      return call->fail(http::status::bad_gateway, "the agent reported no container id");
    recent_.add(call->who.user_id, id, name, reply.from);
    call->reply(http::status::created, {{"Id", id}, {"Warnings", json::array()}});
  });
}

void docker_api::container_inspect(const docker_call_ptr& call) {
  send_ok(call, {{"action", names::inspect_container}, {"id", call->route.id}},
          [call](const common::envelope& reply) { call->reply(http::status::ok, reply.body); });
}

void docker_api::container_action(const docker_call_ptr& call, std::string_view action, json args) {
  args["action"] = action;
  send_ok(call, std::move(args), [call](const common::envelope& reply) {
    // Docker's 304 ("already started/stopped") comes back as 200 with a note.
    bool unchanged = reply.body.is_object() && reply.body.contains("note");
    call->reply(unchanged ? http::status::not_modified : http::status::no_content, nullptr);
  });
}

void docker_api::container_stats(const docker_call_ptr& call) {
  bool stream = call->flag("stream", true) && !call->flag("one-shot");
  send_ok(call, {{"action", names::container_stats}, {"id", call->route.id}},
          [this, call, stream](const common::envelope& reply) {
            if (!stream)
              return call->reply(http::status::ok, docker_stats(reply.body, call->route.id));
            call->begin_stream("application/json");
            call->write(docker_stats(reply.body, call->route.id).dump() + "\n");
            stats_loop(call);
          });
}

void docker_api::stats_loop(const docker_call_ptr& call) {
  // Each sample takes the agent about a second (Docker waits for a second reading).
  send(call, {{"action", names::container_stats}, {"id", call->route.id}},
       [this, call](common::result<common::envelope> r) {
         if (!r || r->code >= 300 || call->gone->load()) return call->end_stream();
         call->write(docker_stats(r->body, call->route.id).dump() + "\n");
         stats_loop(call);
       });
}

}  // namespace dockmesh::bridge
