#include "ui-bridge/docker_api_translate.hpp"

#include <algorithm>
#include <array>
#include <ctime>

#include "common/protocol/names.hpp"
#include "ui-bridge/json_fields.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
using nlohmann::json;

namespace {

const json& field(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

bool non_empty(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  // json::empty() is false for every string: a string is empty by its own size.
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  if (v.is_number()) return v != 0;
  return true;
}

// Docker's Cmd/Entrypoint: an array, a string (one word list for sh -c is the CLI's job), or null.
common::result<void> copy_words(const json& body, const char* from, const char* to, json& out) {
  const json& v = field(body, from);
  if (v.is_null()) return {};
  if (v.is_string()) {
    out[to] = json::array({v});
    return {};
  }
  if (!v.is_array())
    return make_error(errc::invalid_argument, std::string(from) + ": must be a list");
  if (!v.empty()) out[to] = v;
  return {};
}

// HostConfig fields that widen privileges: carried over (under the mesh's names) only when set,
// so that the create policy refuses them naming the field, as the REST API does.
void copy_privileges(const json& hc, json& out) {
  static const std::array<std::pair<const char*, const char*>, 11> fields = {{
      {"Privileged", "privileged"},
      {"CapAdd", "cap_add"},
      {"Devices", "devices"},
      {"DeviceRequests", "device_requests"},
      {"DeviceCgroupRules", "device_cgroup_rules"},
      {"Sysctls", "sysctls"},
      {"SecurityOpt", "security_opt"},
      {"PidMode", "pid_mode"},
      {"UTSMode", "uts_mode"},
      {"UsernsMode", "userns_mode"},
      {"CgroupParent", "cgroup_parent"},
  }};
  for (const auto& [docker, mesh] : fields)
    if (non_empty(field(hc, docker))) out[mesh] = field(hc, docker);
  // The CLI sends "" (daemon default), "private" and "shareable" are the container's own.
  std::string ipc = text_of(hc, "IpcMode");
  if (ipc == "host" || ipc.rfind("container:", 0) == 0) out["ipc_mode"] = ipc;
  std::string cgroupns = text_of(hc, "CgroupnsMode");
  if (cgroupns == "host") out["cgroupns_mode"] = cgroupns;
}

common::result<void> copy_ports(const json& body, const json& hc, json& out) {
  std::map<std::string, json> ports;  // "80/tcp" -> entry
  auto entry = [&](const std::string& key) -> common::result<json> {
    auto slash = key.find('/');
    std::string num = key.substr(0, slash);
    std::string proto = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
    int port = 0;
    try {
      port = std::stoi(num);
    } catch (const std::exception&) {
      return make_error(errc::invalid_argument, "ports: '" + key + "' is not PORT[/PROTOCOL]");
    }
    return json{{"container_port", port}, {"protocol", proto}};
  };
  static const json no_ports = json::object();
  const json& exposed =
      field(body, "ExposedPorts").is_object() ? field(body, "ExposedPorts") : no_ports;
  for (const auto& [key, _] : exposed.items()) {
    auto e = entry(key);
    if (!e) return e.err();
    ports[key] = *e;
  }
  const json& bindings = field(hc, "PortBindings");
  if (bindings.is_object()) {
    for (const auto& [key, list] : bindings.items()) {
      auto e = entry(key);
      if (!e) return e.err();
      for (const auto& b : list.is_array() ? list : json::array()) {
        json p = *e;
        std::string hp = text_of(b, "HostPort");
        p["host_port"] = hp.empty() ? 0 : std::atoi(hp.c_str());
        if (!text_of(b, "HostIp").empty()) p["host_ip"] = text_of(b, "HostIp");
        ports[key + "@" + hp + text_of(b, "HostIp")] = p;
        ports.erase(key);
      }
    }
  }
  if (!ports.empty()) {
    out["ports"] = json::array();
    for (auto& [_, p] : ports) out["ports"].push_back(p);
  }
  return {};
}

// Labels: the container's, minus the `mesh.*` ones, which say where it goes.
common::result<void> copy_labels(const json& body, json& out) {
  const json& labels = field(body, "Labels");
  if (labels.is_null()) return {};
  if (!labels.is_object()) return make_error(errc::invalid_argument, "Labels: must be an object");
  json keep = json::object();
  for (const auto& [k, v] : labels.items()) {
    if (!v.is_string()) return make_error(errc::invalid_argument, "Labels: values must be strings");
    std::string s = v.get<std::string>();
    if (k == mesh_host_label) {
      out["host"] = s;
    } else if (k == mesh_strategy_label) {
      out["strategy"] = s;
    } else if (k == mesh_constraints_label) {
      out["constraints"] = json::array();
      for (std::size_t i = 0; i <= s.size();) {
        auto comma = std::min(s.find(',', i), s.size());
        if (comma > i) out["constraints"].push_back(s.substr(i, comma - i));
        i = comma + 1;
      }
    } else if (k.rfind("mesh.", 0) == 0) {
      return make_error(errc::invalid_argument,
                        "Labels: unknown placement label '" + k +
                            "' (mesh.host, mesh.constraints, mesh.strategy)");
    } else {
      keep[k] = s;
    }
  }
  if (!keep.empty()) out["labels"] = keep;
  return {};
}

common::result<void> copy_host_config(const json& hc, json& out) {
  if (field(hc, "AutoRemove") == true)
    return make_error(errc::invalid_argument, "AutoRemove (--rm) is not supported by the mesh");
  copy_privileges(hc, out);
  if (non_empty(field(hc, "Binds"))) out["binds"] = field(hc, "Binds");
  std::string net = text_of(hc, "NetworkMode");
  if (!net.empty()) out["network_mode"] = net;
  if (integer_of(hc, "Memory") > 0) out["memory"] = integer_of(hc, "Memory");
  if (integer_of(hc, "NanoCpus") > 0)
    out["cpus"] = static_cast<double>(integer_of(hc, "NanoCpus")) / 1e9;
  const json& rp = field(hc, "RestartPolicy");
  std::string policy = text_of(rp, "Name");
  if (!policy.empty() && policy != "no") {
    auto retries = integer_of(rp, "MaximumRetryCount");
    out["restart_policy"] =
        policy == "on-failure" && retries > 0 ? policy + ":" + std::to_string(retries) : policy;
  }
  return {};
}

// Docker's form of a container name, "/name". Appended, not `"/" + std::string`: GCC 12 at -O3
// warns -Wrestrict (a false positive inside std::string).
std::string docker_name(const json& record) {
  std::string name = "/";
  name.append(text_of(record, "name"));
  return name;
}

}  // namespace

common::result<json> mesh_create_message(const json& body, const std::string& name) {
  if (!body.is_object())
    return make_error(errc::invalid_argument, "the body must be a JSON object");
  if (field(body, "Tty") == true)
    return make_error(errc::invalid_argument, "Tty: the mesh runs containers without a TTY");
  if (field(body, "OpenStdin") == true)
    return make_error(errc::invalid_argument, "OpenStdin: the mesh does not attach to containers");
  std::string image = text_of(body, "Image");
  if (image.empty()) return make_error(errc::invalid_argument, "Image: required");
  json out = {
      {"action", common::protocol::names::create_container}, {"image", image}, {"start", false}};
  if (!name.empty()) out["name"] = name;
  for (auto step :
       {copy_words(body, "Cmd", "cmd", out), copy_words(body, "Entrypoint", "entrypoint", out),
        copy_labels(body, out), copy_ports(body, field(body, "HostConfig"), out),
        copy_host_config(field(body, "HostConfig"), out)})
    if (!step) return step.err();
  if (non_empty(field(body, "Env"))) out["env"] = field(body, "Env");
  if (!text_of(body, "WorkingDir").empty()) out["working_dir"] = text_of(body, "WorkingDir");
  if (!text_of(body, "User").empty()) out["user"] = text_of(body, "User");
  if (field(body, "StopTimeout").is_number_integer())
    out["stop_timeout"] = field(body, "StopTimeout");
  if (field(body, "Volumes").is_object() && !field(body, "Volumes").empty()) {
    out["volumes"] = json::array();
    for (const auto& [path, _] : field(body, "Volumes").items()) out["volumes"].push_back(path);
  }
  return out;
}

json docker_container_summary(const json& e) {
  json labels = field(e, "labels").is_object() ? field(e, "labels") : json::object();
  std::string host = text_of(e, "host");
  if (!host.empty()) labels[std::string(mesh_host_label)] = host;
  return {{"Id", text_of(e, "id")},
          {"Names", json::array({docker_name(e)})},
          {"Image", text_of(e, "image")},
          {"ImageID", text_of(e, "image_id")},
          {"Command", text_of(e, "command")},
          {"Created", integer_of(e, "created")},
          {"Ports", json::array()},
          {"Labels", labels},
          {"State", text_of(e, "state")},
          {"Status", text_of(e, "status")},
          {"HostConfig", {{"NetworkMode", "default"}}},
          {"NetworkSettings", {{"Networks", json::object()}}},
          {"Mounts", json::array()}};
}

common::result<docker_filters> parse_docker_filters(std::string_view text) {
  docker_filters out;
  if (text.empty()) return out;
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return make_error(errc::invalid_argument, "filters: must be a JSON object");
  for (const auto& [k, v] : j.items()) {
    auto& list = out[k];
    if (v.is_array()) {
      for (const auto& s : v)
        if (s.is_string()) list.push_back(s.get<std::string>());
    } else if (v.is_object()) {  // the older {"key": {"value": true}} form
      for (const auto& [s, on] : v.items())
        if (on == true) list.push_back(s);
    } else {
      return make_error(errc::invalid_argument, "filters: '" + k + "' must be a list");
    }
  }
  return out;
}

namespace {

bool any_of_list(const std::vector<std::string>& wanted, auto pred) {
  return wanted.empty() || std::any_of(wanted.begin(), wanted.end(), pred);
}

bool label_passes(const json& labels, const std::string& want) {
  auto eq = want.find('=');
  std::string key = want.substr(0, eq);
  if (!labels.is_object() || !labels.contains(key)) return false;
  return eq == std::string::npos || text_of(labels, key.c_str()) == want.substr(eq + 1);
}

}  // namespace

bool container_passes(const docker_filters& f, const json& c) {
  std::string name = field(c, "Names").empty() ? "" : field(c, "Names")[0].get<std::string>();
  for (const auto& [key, wanted] : f) {
    bool ok = true;
    if (key == "label") {
      ok = std::all_of(wanted.begin(), wanted.end(),
                       [&](const std::string& w) { return label_passes(field(c, "Labels"), w); });
    } else if (key == "status") {
      ok = any_of_list(wanted, [&](const std::string& s) { return s == text_of(c, "State"); });
    } else if (key == "name") {
      ok = any_of_list(wanted,
                       [&](const std::string& s) { return name.find(s) != std::string::npos; });
    } else if (key == "id") {
      ok = any_of_list(wanted,
                       [&](const std::string& s) { return text_of(c, "Id").rfind(s, 0) == 0; });
    }
    if (!ok) return false;
  }
  return true;
}

json docker_image_summary(const json& e) {
  return {{"Id", text_of(e, "id")},
          {"ParentId", ""},
          {"RepoTags", field(e, "tags").is_array() ? field(e, "tags") : json::array()},
          {"RepoDigests", field(e, "digests").is_array() ? field(e, "digests") : json::array()},
          {"Created", integer_of(e, "created")},
          {"Size", integer_of(e, "size")},
          {"VirtualSize", integer_of(e, "size")},
          {"SharedSize", -1},
          {"Labels", json::object()},
          {"Containers", -1}};
}

std::optional<json> docker_event(const json& env, std::string_view host) {
  if (text_of(env, "action") != common::protocol::names::docker_event) return std::nullopt;
  const json& b = field(env, "body");
  std::string type = text_of(b, "type");
  json attrs = {{"name", text_of(b, "name")}, {std::string(mesh_host_label), std::string(host)}};
  if (type == "container") {
    attrs["image"] = text_of(b, "image");
    if (!text_of(b, "exit_code").empty()) attrs["exitCode"] = text_of(b, "exit_code");
    if (!text_of(b, "signal").empty()) attrs["signal"] = text_of(b, "signal");
  }
  json e = {{"Type", type},
            {"Action", text_of(b, "action")},
            {"Actor", {{"ID", text_of(b, "id")}, {"Attributes", attrs}}},
            {"scope", "local"},
            {"time", integer_of(b, "time")},
            {"timeNano", integer_of(b, "time_nano")}};
  if (type == "container") {  // the old top-level fields the CLI still prints
    e["status"] = text_of(b, "action");
    e["id"] = text_of(b, "id");
    e["from"] = text_of(b, "image");
  }
  return e;
}

json docker_stats(const json& s, const std::string& id) {
  // `docker stats` computes cpu% = (cpu delta / system delta) * online cpus * 100: pick a system
  // delta and derive the cpu delta that gives the agent's figure.
  double cpus = std::clamp(static_cast<double>(integer_of(s, "online_cpus", 1)), 1.0, 4096.0);
  double percent = field(s, "cpu_percent").is_number() ? field(s, "cpu_percent").get<double>() : 0;
  percent =
      std::clamp(percent, 0.0, 100.0 * cpus);  // and so the integer conversion below is defined
  const double system_delta = 1e9 * cpus;
  auto cpu_delta = static_cast<std::int64_t>(percent / 100.0 * system_delta / cpus);
  auto blkio = [](const char* op, std::int64_t v) {
    return json{{"major", 0}, {"minor", 0}, {"op", op}, {"value", v}};
  };
  return {{"id", id},
          {"name", docker_name(s)},
          {"read", text_of(s, "read")},
          {"preread", text_of(s, "read")},
          {"pids_stats", {{"current", integer_of(s, "pids")}}},
          {"memory_stats",
           {{"usage", integer_of(s, "memory_usage")},
            {"limit", integer_of(s, "memory_limit")},
            {"stats", json::object()}}},
          {"cpu_stats",
           {{"cpu_usage", {{"total_usage", cpu_delta}}},
            {"system_cpu_usage", static_cast<std::int64_t>(system_delta)},
            {"online_cpus", static_cast<int>(cpus)}}},
          {"precpu_stats",
           {{"cpu_usage", {{"total_usage", 0}}},
            {"system_cpu_usage", 0},
            {"online_cpus", static_cast<int>(cpus)}}},
          {"blkio_stats",
           {{"io_service_bytes_recursive",
             json::array({blkio("Read", integer_of(s, "block_read_bytes")),
                          blkio("Write", integer_of(s, "block_write_bytes"))})}}},
          {"networks",
           {{"eth0",
             {{"rx_bytes", integer_of(s, "network_rx_bytes")},
              {"tx_bytes", integer_of(s, "network_tx_bytes")}}}}}};
}

const json& list_at(const json& j, const char* key) {
  static const json empty = json::array();
  const json& v = field(j, key);
  return v.is_array() ? v : empty;
}

json docker_error_body(std::string_view message) {
  return {{"message", std::string(message)}};
}

}  // namespace dockmesh::bridge

namespace dockmesh::bridge {

bool event_passes(const docker_filters& f, const nlohmann::json& e) {
  const auto& attrs = e["Actor"]["Attributes"];
  // Not a structured binding: C++17 lambdas cannot capture one (clang 14 refuses).
  for (const auto& filter : f) {
    const std::string& key = filter.first;
    const auto& wanted = filter.second;
    if (wanted.empty()) continue;
    auto in = [&](const std::string& v) {
      return std::find(wanted.begin(), wanted.end(), v) != wanted.end();
    };
    bool ok = true;
    if (key == "type")
      ok = in(text_of(e, "Type"));
    else if (key == "event")
      ok = in(text_of(e, "Action"));
    else if (key == "container")
      ok = in(text_of(e["Actor"], "ID")) || in(text_of(attrs, "name"));
    else if (key == "image")
      ok = in(text_of(attrs, "image"));
    if (!ok) return false;
  }
  return true;
}

std::int64_t unix_seconds(std::string_view text) {
  std::string whole(text.substr(0, text.find('.')));
  if (whole.empty() || whole.size() > 18 ||
      !std::all_of(whole.begin(), whole.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(whole);
}

}  // namespace dockmesh::bridge
