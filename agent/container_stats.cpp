#include "agent/container_stats.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "agent/action_handlers.hpp"
#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {
namespace {

using nlohmann::json;

// Walks a path of keys; 0 when anything on the way is missing or not a number.
double at(const json& j, std::initializer_list<const char*> path) {
  const json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return 0;
    p = &(*p)[k];
  }
  return p->is_number() ? p->get<double>() : 0;
}

// Docker's numbers arrive as doubles here; a value no int64 can hold (only a broken daemon sends
// one) becomes 0 rather than undefined behaviour.
std::int64_t to_int(double v) {
  return std::isfinite(v) && v > -9.2e18 && v < 9.2e18 ? static_cast<std::int64_t>(v) : 0;
}

double round2(double v) {
  if (!std::isfinite(v) || v > 1e15 || v < -1e15) return 0;
  return std::round(v * 100) / 100;
}

double cpu_percent(const json& s) {
  double cpu = at(s, {"cpu_stats", "cpu_usage", "total_usage"}) -
               at(s, {"precpu_stats", "cpu_usage", "total_usage"});
  double system =
      at(s, {"cpu_stats", "system_cpu_usage"}) - at(s, {"precpu_stats", "system_cpu_usage"});
  double cpus = at(s, {"cpu_stats", "online_cpus"});
  if (cpus == 0)  // older daemons: count the per-CPU entries instead
    cpus = static_cast<double>(
        array_of(field_of(field_of(s, "cpu_stats"), "cpu_usage"), "percpu_usage").size());
  if (cpu <= 0 || system <= 0) return 0;
  return cpu / system * std::max(cpus, 1.0) * 100.0;
}

// Usage minus page cache, as `docker stats` shows it (cgroup v1 "cache", v2 "inactive_file").
double memory_usage(const json& s) {
  double usage = at(s, {"memory_stats", "usage"});
  double cache = at(s, {"memory_stats", "stats", "total_inactive_file"});
  if (cache == 0) cache = at(s, {"memory_stats", "stats", "inactive_file"});
  return cache > 0 && cache < usage ? usage - cache : usage;
}

void block_io(const json& s, double& read, double& write) {
  json list = array_of(field_of(s, "blkio_stats"), "io_service_bytes_recursive");
  if (!list.is_array()) return;
  for (const auto& e : list) {
    std::string op = str_of(e, "op");
    std::transform(op.begin(), op.end(), op.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const json& value = field_of(e, "value");
    double v = value.is_number() ? value.get<double>() : 0;
    if (op == "read") read += v;
    if (op == "write") write += v;
  }
}

}  // namespace

json summarize_stats(const json& s) {
  double rx = 0, tx = 0;
  json networks = object_of(s, "networks");  // named: items() of a temporary would dangle
  for (const auto& [name, n] : networks.items()) {
    rx += at(n, {"rx_bytes"});
    tx += at(n, {"tx_bytes"});
  }
  double read = 0, write = 0;
  block_io(s, read, write);
  double mem = memory_usage(s), limit = at(s, {"memory_stats", "limit"});
  return {{"read", str_of(s, "read")},
          {"cpu_percent", round2(cpu_percent(s))},
          {"online_cpus", to_int(at(s, {"cpu_stats", "online_cpus"}))},
          {"memory_usage", to_int(mem)},
          {"memory_limit", to_int(limit)},
          {"memory_percent", limit > 0 ? round2(mem / limit * 100) : 0.0},
          {"network_rx_bytes", to_int(rx)},
          {"network_tx_bytes", to_int(tx)},
          {"block_read_bytes", to_int(read)},
          {"block_write_bytes", to_int(write)},
          {"pids", to_int(at(s, {"pids_stats", "current"}))}};
}

action_reply handle_container_stats(action_context& ctx) {
  auto a = common::parse_container_ref_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_container_ref("id", a->id); !ok) return error_reply(ok.err());
  auto c = load_owned_container(ctx, a->id);
  if (!c) return error_reply(c.err());
  std::string id = str_of(*c, "Id", a->id);
  bool running = bool_of(field_of(*c, "State"), "Running");
  // stream=false waits for a second sample so that precpu_stats is filled: about one second.
  auto s = ctx.docker.call({http_method::get,
                            "/containers/" + escape_component(id) + "/stats?stream=false",
                            {},
                            {},
                            std::chrono::seconds(30)});
  if (!s) return error_reply(s.err());
  auto j = json::parse(s->body, nullptr, false);
  if (!j.is_object())
    return error_reply({common::errc::internal, "Docker sent stats that are not JSON"});
  json body = summarize_stats(j);
  body["id"] = id;
  body["name"] = container_name_of(*c);
  body["running"] = running;
  return ok_reply(std::move(body));
}

}  // namespace dockmesh::agent
