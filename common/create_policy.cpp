#include "common/create_policy.hpp"

#include <algorithm>

namespace dockmesh::common {
namespace {

using nlohmann::json;

error refusal(const std::string& field, const std::string& why) {
  return error{errc::forbidden, "field '" + field + "': " + why};
}

bool normalised_abs(std::string_view p) {
  if (p.empty() || p[0] != '/') return false;
  if (p.size() > 1 && p.back() == '/') return false;
  for (std::size_t start = 1; start < p.size();) {
    auto slash = p.find('/', start);
    auto piece = p.substr(start, slash - start);
    if (piece.empty() || piece == "." || piece == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

// `path` is `prefix` or below it, component-wise ("/srv/data" is not under "/srv/da").
bool under(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return true;
  return path == prefix || (path.size() > prefix.size() &&
                            path.substr(0, prefix.size()) == prefix && path[prefix.size()] == '/');
}

result<void> check_network(const std::string& mode, const create_policy& p, owned_refs& refs) {
  if (mode.empty() || mode == "none" || mode == "bridge" || mode == "default") return {};
  if (mode == "host") {
    if (p.host_network) return {};
    return refusal("network_mode",
                   "host networking is not allowed for non-admins by this "
                   "host's policy");
  }
  if (mode.rfind("container:", 0) == 0) {
    refs.network_container = mode.substr(10);
    return {};
  }
  // Appended, not `"'" + mode.substr(..)`: GCC 12 at -O3 inlines that operator+ (an insert at
  // the front of the temporary) and warns -Wrestrict about a memcpy it cannot prove apart.
  std::string text = "'";
  text.append(mode, 0, 64)
      .append(
          "' is not allowed for non-admins; use none, bridge or container:<one of your "
          "containers>");
  return refusal("network_mode", text);
}

result<void> check_binds(const std::vector<std::string>& binds, const create_policy& p,
                         owned_refs& refs) {
  for (std::size_t i = 0; i < binds.size(); ++i) {
    std::string field = "binds[" + std::to_string(i) + "]";
    std::string src = binds[i].substr(0, binds[i].find(':'));
    if (src.empty() || src[0] != '/') {
      refs.volumes.emplace_back(field, src);
      continue;
    }
    bool allowed =
        normalised_abs(src) && std::any_of(p.bind_prefixes.begin(), p.bind_prefixes.end(),
                                           [&](const auto& pre) { return under(src, pre); });
    if (!allowed)
      return refusal(field, "binding the host path '" + src.substr(0, 128) +
                                "' is not allowed for non-admins by this host's policy");
  }
  return {};
}

result<void> check_ports(const std::vector<port_spec>& ports, const create_policy& p) {
  for (std::size_t i = 0; i < ports.size(); ++i) {
    auto hp = ports[i].host_port;
    if (hp > 0 && (hp < p.port_min || hp > p.port_max))
      return refusal("ports[" + std::to_string(i) + "].host_port",
                     "host port " + std::to_string(hp) + " is outside this host's allowed range " +
                         std::to_string(p.port_min) + "-" + std::to_string(p.port_max));
  }
  return {};
}

result<std::vector<std::string>> string_list(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  if (!j[key].is_array()) return make_error(errc::invalid_argument, std::string(key) + ": list");
  for (const auto& v : j[key]) {
    if (!v.is_string()) return make_error(errc::invalid_argument, std::string(key) + ": strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

json to_json(const create_policy& p) {
  return {{"bind_prefixes", p.bind_prefixes},
          {"ports", {{"min", p.port_min}, {"max", p.port_max}}},
          {"registries", p.registries},
          {"host_network", p.host_network},
          {"forbidden_fields", forbidden_create_fields()}};
}

result<create_policy> create_policy_from_json(const json& j) {
  if (!j.is_object()) return make_error(errc::invalid_argument, "policy: must be an object");
  create_policy p;
  auto prefixes = string_list(j, "bind_prefixes");
  if (!prefixes) return prefixes.err();
  p.bind_prefixes = std::move(*prefixes);
  auto regs = string_list(j, "registries");
  if (!regs) return regs.err();
  p.registries = std::move(*regs);
  const json& ports = j.contains("ports") ? j["ports"] : json::object();
  p.port_min = ports.value("min", p.port_min);
  p.port_max = ports.value("max", p.port_max);
  p.host_network = j.value("host_network", false);
  if (auto ok = validate_policy(p); !ok) return ok.err();
  return p;
}

result<void> validate_policy(const create_policy& p) {
  for (const auto& pre : p.bind_prefixes)
    if (!normalised_abs(pre))
      return make_error(errc::invalid_argument, "bind prefix '" + pre +
                                                    "' must be an absolute path without "
                                                    "'.', '..', '//' or a trailing '/'");
  if (p.port_min < 1 || p.port_min > p.port_max || p.port_max > 65535)
    return make_error(errc::invalid_argument, "port range must be 1 <= min <= max <= 65535");
  for (const auto& r : p.registries)
    if (r.empty() || r.find('/') != std::string::npos)
      return make_error(errc::invalid_argument, "registry '" + r + "' must be a host[:port]");
  return {};
}

const std::vector<std::string_view>& forbidden_create_fields() {
  static const std::vector<std::string_view> fields = {"privileged",
                                                       "cap_add",
                                                       "devices",
                                                       "device_requests",
                                                       "device_cgroup_rules",
                                                       "sysctls",
                                                       "security_opt",
                                                       "pid_mode",
                                                       "ipc_mode",
                                                       "uts_mode",
                                                       "userns_mode",
                                                       "cgroup_parent",
                                                       "cgroupns_mode",
                                                       "pid",
                                                       "ipc",
                                                       "uts",
                                                       "host_config",
                                                       "Privileged",
                                                       "CapAdd",
                                                       "Devices",
                                                       "Sysctls",
                                                       "SecurityOpt",
                                                       "PidMode",
                                                       "IpcMode",
                                                       "UTSMode",
                                                       "UsernsMode",
                                                       "HostConfig"};
  return fields;
}

result<void> check_forbidden_fields(const json& body) {
  if (!body.is_object()) return {};
  for (auto f : forbidden_create_fields())
    if (body.contains(f))
      return refusal(std::string(f),
                     "not allowed for non-admins by any host's policy (it would "
                     "widen the container's privileges or reach the host)");
  return {};
}

result<owned_refs> check_create(const create_container_args& a, const create_policy& p, role r) {
  owned_refs refs;
  if (r == role::admin) return refs;
  if (auto ok = check_network(a.network_mode, p, refs); !ok) return ok.err();
  if (auto ok = check_binds(a.binds, p, refs); !ok) return ok.err();
  if (auto ok = check_ports(a.ports, p); !ok) return ok.err();
  return refs;
}

std::string registry_of(std::string_view image) {
  auto slash = image.find('/');
  if (slash == std::string_view::npos) return "docker.io";
  auto first = image.substr(0, slash);
  // Docker's rule: the first component names a registry when it has a '.' or a ':' or is
  // "localhost"; otherwise it is a path on Docker Hub ("library/busybox", "local/busybox").
  if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
      first == "localhost")
    return std::string(first);
  return "docker.io";
}

result<void> check_pull(std::string_view image, const create_policy& p, role r) {
  if (r == role::admin) return {};
  std::string reg = registry_of(image);
  // An entry without a port ("localhost") allows that host on any port.
  auto match = [&](const std::string& allowed) {
    return reg == allowed ||
           (allowed.find(':') == std::string::npos && reg.rfind(allowed + ":", 0) == 0);
  };
  if (std::any_of(p.registries.begin(), p.registries.end(), match)) return {};
  return refusal("image", "pulling from registry '" + reg +
                              "' is not allowed for non-admins by this host's policy");
}

}  // namespace dockmesh::common
