// ping, host-info, disk-usage: actions about the host rather than one container.
#include "agent/action_handlers.hpp"
#include "agent/docker_calls.hpp"
#include "agent/docker_json.hpp"
#include "agent/host_state.hpp"
#include "common/action_args.hpp"
#include "common/create_policy.hpp"

namespace dockmesh::agent {
namespace {

using nlohmann::json;

// Sums of sizes a hostile daemon could make overflow: saturate instead.
void add(std::int64_t& total, std::int64_t v) {
  if (__builtin_add_overflow(total, v, &total)) total = v > 0 ? INT64_MAX : INT64_MIN;
}

json image_items(const json& images, json& summary) {
  json items = json::array();
  std::int64_t size = 0, reclaimable = 0;
  for (const auto& i : images) {
    std::int64_t s = int_of(i, "Size"), shared = std::max<std::int64_t>(int_of(i, "SharedSize"), 0);
    add(size, s);
    if (int_of(i, "Containers") == 0 && s >= shared) add(reclaimable, s - shared);
    items.push_back({{"id", str_of(i, "Id")},
                     {"tags", array_of(i, "RepoTags")},
                     {"size", s},
                     {"shared_size", shared},
                     {"containers", int_of(i, "Containers")}});
  }
  summary["images"] = {{"count", items.size()}, {"size", size}, {"reclaimable", reclaimable}};
  return items;
}

json container_items(const action_request& req, const json& containers, json& summary) {
  json items = json::array();
  std::int64_t size_rw = 0;
  for (const auto& c : containers) {
    if (!c.is_object() || !visible_to(req, field_of(c, "Labels"))) continue;
    add(size_rw, int_of(c, "SizeRw"));
    items.push_back({{"id", str_of(c, "Id")},
                     {"name", container_name_of(c)},
                     {"image", str_of(c, "Image")},
                     {"state", str_of(c, "State")},
                     {"size_rw", int_of(c, "SizeRw")},
                     {"size_root_fs", int_of(c, "SizeRootFs")}});
  }
  summary["containers"] = {{"count", items.size()}, {"size_rw", size_rw}};
  return items;
}

// A non-admin sees only the volumes labelled with their user id (the agent labels every volume it
// creates); anonymous and other users' volumes are not named to them.
json volume_items(const action_request& req, const json& volumes, json& summary) {
  json items = json::array();
  std::int64_t size = 0;
  for (const auto& v : volumes) {
    if (!v.is_object() || !visible_to(req, field_of(v, "Labels"))) continue;
    const json& usage = field_of(v, "UsageData");
    std::int64_t s = usage.is_object() ? int_of(usage, "Size") : -1;
    if (s > 0) add(size, s);
    items.push_back({{"name", str_of(v, "Name")},
                     {"driver", str_of(v, "Driver")},
                     {"size", s},
                     {"ref_count", usage.is_object() ? int_of(usage, "RefCount") : -1}});
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
                   {"docker", to_valid_utf8(r->body.substr(0, 64))},
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
  body["policy"] = common::to_json(ctx.self.policy);
  return ok_reply(std::move(body));
}

action_reply handle_disk_usage(action_context& ctx) {
  if (auto a = common::parse_empty_args(ctx.request.body); !a) return error_reply(a.err());
  auto df = get_json(ctx.docker, "/system/df");
  if (!df) return error_reply(df.err());
  json summary = {{"layers_size", int_of(*df, "LayersSize")}};
  json images = image_items(array_or_empty(*df, "Images"), summary);
  json containers = container_items(ctx.request, array_or_empty(*df, "Containers"), summary);
  json volumes = volume_items(ctx.request, array_or_empty(*df, "Volumes"), summary);
  std::int64_t cache_size = 0;
  json cache = array_or_empty(*df, "BuildCache");
  for (const auto& b : cache) add(cache_size, int_of(b, "Size"));
  summary["build_cache"] = {{"count", cache.size()}, {"size", cache_size}};
  return ok_reply(
      {{"summary", summary}, {"images", images}, {"containers", containers}, {"volumes", volumes}});
}

}  // namespace dockmesh::agent
