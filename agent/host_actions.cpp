// ping, host-info, disk-usage: actions about the host rather than one container.
#include "agent/action_handlers.hpp"
#include "agent/docker_calls.hpp"
#include "agent/host_state.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {
namespace {

using nlohmann::json;

std::int64_t num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

json image_items(const json& images, json& summary) {
  json items = json::array();
  std::int64_t size = 0, reclaimable = 0;
  for (const auto& i : images) {
    std::int64_t s = num(i, "Size"), shared = std::max<std::int64_t>(num(i, "SharedSize"), 0);
    size += s;
    if (num(i, "Containers") == 0) reclaimable += s - shared;
    items.push_back({{"id", i.value("Id", "")},
                     {"tags", i.value("RepoTags", json::array())},
                     {"size", s},
                     {"shared_size", shared},
                     {"containers", num(i, "Containers")}});
  }
  summary["images"] = {{"count", items.size()}, {"size", size}, {"reclaimable", reclaimable}};
  return items;
}

json container_items(const action_request& req, const json& containers, json& summary) {
  json items = json::array();
  std::int64_t size_rw = 0;
  for (const auto& c : containers) {
    size_rw += num(c, "SizeRw");
    if (!visible_to(req, c.value("Labels", json()))) continue;
    std::string name = c.contains("Names") && c["Names"].is_array() && !c["Names"].empty()
                           ? c["Names"][0].get<std::string>()
                           : "";
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    items.push_back({{"id", c.value("Id", "")},
                     {"name", name},
                     {"image", c.value("Image", "")},
                     {"state", c.value("State", "")},
                     {"size_rw", num(c, "SizeRw")},
                     {"size_root_fs", num(c, "SizeRootFs")}});
  }
  summary["containers"] = {{"count", containers.size()}, {"size_rw", size_rw}};
  return items;
}

json volume_items(const json& volumes, json& summary) {
  json items = json::array();
  std::int64_t size = 0;
  for (const auto& v : volumes) {
    json usage = v.value("UsageData", json::object());
    std::int64_t s = usage.is_object() ? num(usage, "Size") : -1;
    if (s > 0) size += s;
    items.push_back({{"name", v.value("Name", "")},
                     {"driver", v.value("Driver", "")},
                     {"size", s},
                     {"ref_count", usage.is_object() ? num(usage, "RefCount") : -1}});
  }
  summary["volumes"] = {{"count", items.size()}, {"size", size}};
  return items;
}

json array_or_empty(const json& df, const char* key) {
  auto it = df.find(key);
  return it != df.end() && it->is_array() ? *it : json::array();
}

}  // namespace

action_reply handle_ping(action_context& ctx) {
  if (auto a = common::parse_empty_args(ctx.request.body); !a) return error_reply(a.err());
  auto r = ctx.docker.call({http_method::get, "/_ping", {}, {}, {}});
  if (!r) return error_reply(r.err());
  return ok_reply({{"pong", true},
                   {"fqdn", ctx.self.fqdn},
                   {"docker", r->body},
                   {"agent_version", ctx.self.agent_version}});
}

action_reply handle_host_info(action_context& ctx) {
  if (auto a = common::parse_empty_args(ctx.request.body); !a) return error_reply(a.err());
  auto facts = read_host_facts(ctx.docker);
  if (!facts) return error_reply(facts.err());
  json body = to_json(*facts);
  body["fqdn"] = ctx.self.fqdn;
  body["labels"] = ctx.self.labels;
  body["agent_version"] = ctx.self.agent_version;
  return ok_reply(std::move(body));
}

action_reply handle_disk_usage(action_context& ctx) {
  if (auto a = common::parse_empty_args(ctx.request.body); !a) return error_reply(a.err());
  auto df = get_json(ctx.docker, "/system/df");
  if (!df) return error_reply(df.err());
  json summary = {{"layers_size", num(*df, "LayersSize")}};
  json images = image_items(array_or_empty(*df, "Images"), summary);
  json containers = container_items(ctx.request, array_or_empty(*df, "Containers"), summary);
  json volumes = volume_items(array_or_empty(*df, "Volumes"), summary);
  std::int64_t cache_size = 0;
  json cache = array_or_empty(*df, "BuildCache");
  for (const auto& b : cache) cache_size += num(b, "Size");
  summary["build_cache"] = {{"count", cache.size()}, {"size", cache_size}};
  return ok_reply(
      {{"summary", summary}, {"images", images}, {"containers", containers}, {"volumes", volumes}});
}

}  // namespace dockmesh::agent
