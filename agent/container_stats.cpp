#include "agent/container_stats.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "agent/action_handlers.hpp"
#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"
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

double cpu_percent(const json& s) {
  double cpu = at(s, {"cpu_stats", "cpu_usage", "total_usage"}) -
               at(s, {"precpu_stats", "cpu_usage", "total_usage"});
  double system =
      at(s, {"cpu_stats", "system_cpu_usage"}) - at(s, {"precpu_stats", "system_cpu_usage"});
  double cpus = at(s, {"cpu_stats", "online_cpus"});
  if (cpus == 0) {  // older daemons: count the per-CPU entries instead
    auto per = s.value("/cpu_stats/cpu_usage/percpu_usage"_json_pointer, json());
    if (per.is_array()) cpus = static_cast<double>(per.size());
  }
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
  const json& list = s.contains("blkio_stats") && s["blkio_stats"].is_object()
                         ? s["blkio_stats"].value("io_service_bytes_recursive", json())
                         : json();
  if (!list.is_array()) return;
  for (const auto& e : list) {
    if (!e.is_object() || !e.contains("op") || !e["op"].is_string()) continue;
    std::string op = e.value("op", "");
    std::transform(op.begin(), op.end(), op.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    double v = e.contains("value") && e["value"].is_number() ? e["value"].get<double>() : 0;
    if (op == "read") read += v;
    if (op == "write") write += v;
  }
}

}  // namespace

json summarize_stats(const json& s) {
  double rx = 0, tx = 0;
  if (s.contains("networks") && s["networks"].is_object())
    for (const auto& [name, n] : s["networks"].items()) {
      rx += at(n, {"rx_bytes"});
      tx += at(n, {"tx_bytes"});
    }
  double read = 0, write = 0;
  block_io(s, read, write);
  double mem = memory_usage(s), limit = at(s, {"memory_stats", "limit"});
  auto round2 = [](double v) {
    return static_cast<double>(static_cast<long long>(v * 100 + 0.5)) / 100;
  };
  json read_at =
      s.is_object() && s.contains("read") && s["read"].is_string() ? s["read"] : json("");
  return {{"read", read_at},
          {"cpu_percent", round2(cpu_percent(s))},
          {"online_cpus", at(s, {"cpu_stats", "online_cpus"})},
          {"memory_usage", static_cast<std::int64_t>(mem)},
          {"memory_limit", static_cast<std::int64_t>(limit)},
          {"memory_percent", limit > 0 ? round2(mem / limit * 100) : 0.0},
          {"network_rx_bytes", static_cast<std::int64_t>(rx)},
          {"network_tx_bytes", static_cast<std::int64_t>(tx)},
          {"block_read_bytes", static_cast<std::int64_t>(read)},
          {"block_write_bytes", static_cast<std::int64_t>(write)},
          {"pids", static_cast<std::int64_t>(at(s, {"pids_stats", "current"}))}};
}

action_reply handle_container_stats(action_context& ctx) {
  auto a = common::parse_container_ref_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_container_ref("id", a->id); !ok) return error_reply(ok.err());
  auto c = load_owned_container(ctx, a->id);
  if (!c) return error_reply(c.err());
  std::string id = c->value("Id", a->id);
  bool running = (*c)["State"].is_object() && (*c)["State"].value("Running", false);
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
  std::string name = c->value("Name", "");
  body["name"] = !name.empty() && name[0] == '/' ? name.substr(1) : name;
  body["running"] = running;
  return ok_reply(std::move(body));
}

}  // namespace dockmesh::agent
