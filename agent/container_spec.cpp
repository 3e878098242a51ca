#include "agent/container_spec.hpp"

#include <arpa/inet.h>

#include <cmath>

#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"

namespace dockmesh::agent {
namespace {

using common::errc;
using nlohmann::json;

common::result<void> check_list(const std::vector<std::string>& items, const std::string& field,
                                common::result<void> (*check)(std::string_view, std::string_view)) {
  for (std::size_t i = 0; i < items.size(); ++i)
    if (auto ok = check(field + "[" + std::to_string(i) + "]", items[i]); !ok) return ok;
  return {};
}

common::result<void> check_labels(const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : labels) {
    if (auto ok = check_label_key("labels", k); !ok) return ok;
    if (k.rfind("dockmesh.", 0) == 0)
      return common::make_error(
          errc::invalid_argument,
          "field 'labels': '" + excerpt(k) + "' is reserved for the agent (dockmesh.*)");
    if (auto ok = check_label_value("labels." + k, v); !ok) return ok;
  }
  return {};
}

common::result<void> check_ports(const std::vector<common::port_spec>& ports) {
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const auto& ip = ports[i].host_ip;
    unsigned char buf[16];
    if (!ip.empty() && inet_pton(AF_INET, ip.c_str(), buf) != 1 &&
        inet_pton(AF_INET6, ip.c_str(), buf) != 1)
      return common::make_error(errc::invalid_argument, "field 'ports[" + std::to_string(i) +
                                                            "].host_ip': '" + excerpt(ip) +
                                                            "' is not an IP address");
  }
  return {};
}

common::result<void> check_binds(const std::vector<std::string>& binds) {
  for (std::size_t i = 0; i < binds.size(); ++i) {
    bool host_path = false;
    if (auto ok = check_bind("binds[" + std::to_string(i) + "]", binds[i], &host_path); !ok)
      return ok;
  }
  return {};
}

common::result<void> check_optional(const std::string& v, std::string_view field,
                                    common::result<void> (*check)(std::string_view,
                                                                  std::string_view)) {
  return v.empty() ? common::result<void>() : check(field, v);
}

json port_key(const common::port_spec& p) {
  return std::to_string(p.container_port) + "/" + p.protocol;
}

json host_config(const common::create_container_args& a) {
  json hc = json::object();
  if (!a.binds.empty()) hc["Binds"] = a.binds;
  json bindings = json::object();
  for (const auto& p : a.ports)
    if (p.host_port > 0)
      bindings[port_key(p).get<std::string>()].push_back(
          {{"HostIp", p.host_ip}, {"HostPort", std::to_string(p.host_port)}});
  if (!bindings.empty()) hc["PortBindings"] = bindings;
  if (a.memory > 0) hc["Memory"] = a.memory;
  if (a.cpus > 0) hc["NanoCpus"] = static_cast<std::int64_t>(std::llround(a.cpus * 1e9));
  if (!a.restart_policy.empty()) {
    auto colon = a.restart_policy.find(':');
    json rp = {{"Name", a.restart_policy.substr(0, colon)}};
    if (colon != std::string::npos)
      rp["MaximumRetryCount"] = std::stoi(a.restart_policy.substr(colon + 1));
    hc["RestartPolicy"] = rp;
  }
  if (!a.network_mode.empty()) hc["NetworkMode"] = a.network_mode;
  return hc;
}

}  // namespace

common::result<void> validate_create(const common::create_container_args& a) {
  using check_fn = common::result<void> (*)(std::string_view, std::string_view);
  const std::pair<const std::string*, std::pair<const char*, check_fn>> singles[] = {
      {&a.image, {"image", check_image_ref}},
      {&a.name, {"name", check_container_name}},
      {&a.working_dir, {"working_dir", check_abs_path}},
      {&a.user, {"user", check_user}},
      {&a.restart_policy, {"restart_policy", check_restart_policy}},
      {&a.network_mode, {"network_mode", check_network_mode}},
  };
  for (const auto& [value, spec] : singles)
    if (auto ok = check_optional(*value, spec.first, spec.second); !ok) return ok;
  if (a.image.empty())
    return common::make_error(errc::invalid_argument, "field 'image' is required");
  if (a.cmd)
    if (auto ok = check_list(*a.cmd, "cmd", check_argument); !ok) return ok;
  if (a.entrypoint)
    if (auto ok = check_list(*a.entrypoint, "entrypoint", check_argument); !ok) return ok;
  if (auto ok = check_list(a.env, "env", check_env_entry); !ok) return ok;
  if (a.healthcheck)
    if (auto ok = check_list(a.healthcheck->test, "healthcheck.test", check_argument); !ok)
      return ok;
  if (auto ok = check_list(a.volumes, "volumes", check_abs_path); !ok) return ok;
  if (auto ok = check_labels(a.labels); !ok) return ok;
  if (auto ok = check_ports(a.ports); !ok) return ok;
  return check_binds(a.binds);
}

std::string instance_name(const common::create_container_args& a, int index) {
  if (a.name.empty()) return {};
  // first_instance (given by the scheduler) numbers instances across hosts; a plain
  // `instances: N` to one host keeps -1..-N.
  if (a.first_instance > 0) return a.name + "-" + std::to_string(a.first_instance + index - 1);
  return a.instances == 1 ? a.name : a.name + "-" + std::to_string(index);
}

json docker_create_body(const common::create_container_args& a, const action_request& request,
                        int index) {
  json labels = a.labels;
  labels[std::string(owner_label)] = request.user;
  labels[std::string(request_label)] = request.id;
  labels[std::string(instance_label)] = std::to_string(index);
  if (!a.template_name.empty()) labels[std::string(template_label)] = a.template_name;
  json body = {{"Image", a.image}, {"Labels", labels}};
  if (a.cmd) body["Cmd"] = *a.cmd;
  if (a.entrypoint) body["Entrypoint"] = *a.entrypoint;
  if (!a.env.empty()) body["Env"] = a.env;
  if (!a.working_dir.empty()) body["WorkingDir"] = a.working_dir;
  if (!a.user.empty()) body["User"] = a.user;
  if (a.stop_timeout >= 0) body["StopTimeout"] = a.stop_timeout;
  json exposed = json::object();
  for (const auto& p : a.ports) exposed[port_key(p).get<std::string>()] = json::object();
  if (!exposed.empty()) body["ExposedPorts"] = exposed;
  json volumes = json::object();
  for (const auto& v : a.volumes) volumes[v] = json::object();
  if (!volumes.empty()) body["Volumes"] = volumes;
  body["HostConfig"] = host_config(a);
  if (a.healthcheck) {
    constexpr std::int64_t ns = 1000000000;  // Docker's durations are nanoseconds
    body["Healthcheck"] = {{"Test", a.healthcheck->test},
                           {"Interval", a.healthcheck->interval_s * ns},
                           {"Timeout", a.healthcheck->timeout_s * ns},
                           {"Retries", a.healthcheck->retries},
                           {"StartPeriod", a.healthcheck->start_period_s * ns}};
  }
  return body;
}

}  // namespace dockmesh::agent
