#include "common/service_spec.hpp"

#include <map>
#include <optional>
#include <regex>
#include <set>

namespace dockmesh::common {
namespace {

using nlohmann::json;

// The fields that shape a container (the rest are replicas and policies).
const std::set<std::string> container_fields{"image",        "cmd",        "env",  "ports",
                                             "volumes",      "memory",     "cpus", "restart_policy",
                                             "network_mode", "healthcheck"};

error bad(const std::string& field, const std::string& what) {
  return make_error(errc::invalid_argument, "spec." + field + ": " + what);
}

std::optional<error> check_int(const json& v, const std::string& f, std::int64_t lo,
                               std::int64_t hi) {
  if (!v.is_number_integer()) return bad(f, "must be an integer");
  auto n = v.get<std::int64_t>();
  if (n < lo || n > hi)
    return bad(f, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return std::nullopt;
}

std::optional<error> check_strings(const json& v, const std::string& f, std::size_t max_items) {
  if (!v.is_array() || v.size() > max_items)
    return bad(f, "must be a list of strings (at most " + std::to_string(max_items) + ")");
  for (const auto& s : v)
    if (!s.is_string() || s.get_ref<const std::string&>().size() > 4096)
      return bad(f, "must be a list of strings");
  return std::nullopt;
}

std::optional<error> check_enum(const json& v, const std::string& f,
                                std::set<std::string> allowed) {
  if (!v.is_string() || !allowed.count(v.get<std::string>())) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return bad(f, "must be one of " + list);
  }
  return std::nullopt;
}

std::optional<error> check_ports(const json& v) {
  if (!v.is_array() || v.size() > 64) return bad("ports", "must be a list (at most 64)");
  for (const auto& p : v) {
    if (!p.is_object() || !p.contains("container_port"))
      return bad("ports", "each needs container_port");
    for (const auto& [k, x] : p.items()) {
      std::optional<error> e;
      if (k == "container_port")
        e = check_int(x, "ports.container_port", 1, 65535);
      else if (k == "host_port")
        e = check_int(x, "ports.host_port", 0, 65535);
      else if (k == "protocol")
        e = check_enum(x, "ports.protocol", {"tcp", "udp"});
      else if (k == "host_ip" && !x.is_string())
        e = bad("ports.host_ip", "must be a string");
      else if (k == "host_ip")
        e = std::nullopt;
      else
        e = bad("ports." + k, "unknown field");
      if (e) return e;
    }
  }
  return std::nullopt;
}

using checker = std::optional<error> (*)(const json&, const std::string&);

std::optional<error> check_object(const json& v, const std::string& f,
                                  const std::map<std::string, checker>& fields) {
  if (!v.is_object()) return bad(f, "must be an object");
  for (const auto& [k, x] : v.items()) {
    auto c = fields.find(k);
    if (c == fields.end()) return bad(f + "." + k, "unknown field");
    if (auto e = c->second(x, f + "." + k)) return e;
  }
  return std::nullopt;
}

std::optional<error> check_placement(const json& v) {
  return check_object(v, "placement",
                      {{"pool",
                        [](const json& x, const std::string& f) -> std::optional<error> {
                          if (!x.is_string() || x.get_ref<const std::string&>().size() > 64)
                            return bad(f, "must be a short string");
                          return std::nullopt;
                        }},
                       {"constraints",
                        [](const json& x, const std::string& f) -> std::optional<error> {
                          if (auto e = check_strings(x, f, 32)) return e;
                          for (const auto& c : x)
                            if (c.get_ref<const std::string&>().find('=') == std::string::npos ||
                                c.get_ref<const std::string&>().front() == '=')
                              return bad(f, "each must look like key=value");
                          return std::nullopt;
                        }},
                       {"strategy", [](const json& x, const std::string& f) {
                          return check_enum(x, f, {"spread", "pack"});
                        }}});
}

std::optional<error> check_update(const json& v) {
  return check_object(
      v, "update",
      {{"batch_size", [](const json& x, const std::string& f) { return check_int(x, f, 1, 1000); }},
       {"delay_s", [](const json& x, const std::string& f) { return check_int(x, f, 0, 3600); }},
       {"health_gate",
        [](const json& x, const std::string& f) {
          return check_enum(x, f, {"health", "running"});
        }},
       {"running_s", [](const json& x, const std::string& f) { return check_int(x, f, 0, 3600); }},
       {"rollback", [](const json& x, const std::string& f) -> std::optional<error> {
          if (!x.is_boolean()) return bad(f, "must be true or false");
          return std::nullopt;
        }}});
}

std::optional<error> check_healthcheck(const json& v) {
  auto seconds = [](const json& x, const std::string& f) { return check_int(x, f, 0, 86400); };
  if (auto e = check_object(
          v, "healthcheck",
          {{"test",
            [](const json& x, const std::string& f) -> std::optional<error> {
              if (auto e = check_strings(x, f, 64)) return e;
              static const std::set<std::string> kinds{"CMD", "CMD-SHELL", "NONE"};
              if (x.empty() || !kinds.count(x[0].get<std::string>()))
                return bad(f, "must start with CMD, CMD-SHELL or NONE");
              return std::nullopt;
            }},
           {"interval_s", seconds},
           {"timeout_s", seconds},
           {"retries",
            [](const json& x, const std::string& f) { return check_int(x, f, 0, 1000); }},
           {"start_period_s", seconds}}))
    return e;
  if (!v.contains("test")) return bad("healthcheck.test", "is required");
  return std::nullopt;
}

std::optional<error> check_reschedule(const json& v) {
  return check_object(
      v, "reschedule",
      {{"grace_s", [](const json& x, const std::string& f) { return check_int(x, f, 0, 86400); }},
       {"backoff_s", [](const json& x, const std::string& f) { return check_int(x, f, 0, 3600); }},
       {"on_return", [](const json& x, const std::string& f) {
          return check_enum(x, f, {"remove-returned", "keep-returned"});
        }}});
}

std::optional<error> check_field(const std::string& k, const json& v) {
  static const std::regex restart("^(no|always|unless-stopped|on-failure(:[0-9]+)?)$");
  if (k == "image") {
    if (!v.is_string() || v.get_ref<const std::string&>().empty() ||
        v.get_ref<const std::string&>().size() > 512)
      return bad(k, "must be an image reference");
    return std::nullopt;
  }
  if (k == "cmd" || k == "env" || k == "volumes") return check_strings(v, k, 256);
  if (k == "ports") return check_ports(v);
  if (k == "memory") return check_int(v, k, 0, INT64_MAX);
  if (k == "cpus") {
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1024)
      return bad(k, "must be 0..1024");
    return std::nullopt;
  }
  if (k == "restart_policy") {
    if (!v.is_string() || !std::regex_match(v.get<std::string>(), restart))
      return bad(k, "must be no, always, unless-stopped or on-failure[:N]");
    return std::nullopt;
  }
  if (k == "network_mode") return check_enum(v, k, {"none", "host", "bridge"});
  if (k == "replicas") return check_int(v, k, 0, 1000);
  if (k == "placement") return check_placement(v);
  if (k == "update") return check_update(v);
  if (k == "reschedule") return check_reschedule(v);
  if (k == "healthcheck") return check_healthcheck(v);
  return bad(k, "unknown field");
}

json defaults() {
  return {{"cmd", json::array()},
          {"env", json::array()},
          {"ports", json::array()},
          {"volumes", json::array()},
          {"memory", 0},
          {"cpus", 0},
          {"restart_policy", "no"},
          {"network_mode", "none"},
          {"replicas", 1},
          {"placement", {{"pool", ""}, {"constraints", json::array()}, {"strategy", "spread"}}},
          {"update",
           {{"batch_size", 1},
            {"delay_s", 0},
            {"health_gate", "running"},
            {"running_s", 5},
            {"rollback", true}}},
          {"reschedule", {{"grace_s", 30}, {"backoff_s", 5}, {"on_return", "remove-returned"}}}};
}

}  // namespace

bool valid_object_name(std::string_view name) {
  if (name.empty() || name.size() > 31 || name.front() == '-') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

result<json> check_service_spec(const json& spec, bool partial) {
  if (!spec.is_object()) return make_error(errc::invalid_argument, "spec must be an object");
  for (const auto& [k, v] : spec.items())
    if (auto e = check_field(k, v)) return *e;
  if (partial) return spec;
  if (!spec.contains("image")) return make_error(errc::invalid_argument, "spec.image is required");
  json out = defaults();
  for (const auto& [k, v] : spec.items()) {
    if (v.is_object())
      for (const auto& [kk, vv] : v.items()) out[k][kk] = vv;
    else
      out[k] = v;
  }
  return out;
}

result<json> merge_service_spec(const json& current, const json& patch) {
  auto p = check_service_spec(patch, true);
  if (!p) return p.err();
  json out = current;
  for (const auto& [k, v] : p->items()) {
    if (v.is_object() && out.contains(k) && out[k].is_object())
      for (const auto& [kk, vv] : v.items()) out[k][kk] = vv;
    else
      out[k] = v;
  }
  return check_service_spec(out, false);
}

bool container_spec_differs(const json& a, const json& b) {
  for (const auto& f : container_fields)
    if (a.value(f, json()) != b.value(f, json())) return true;
  return false;
}

json with_container_fields(const json& spec, const json& from) {
  json out = spec;
  for (const auto& f : container_fields) {
    if (from.contains(f))
      out[f] = from[f];
    else
      out.erase(f);
  }
  return out;
}

json replica_create_body(const json& spec) {
  json body = json::object();
  for (const auto& f : container_fields) {
    auto it = spec.find(f);
    if (it == spec.end()) continue;
    bool empty = (it->is_array() && it->empty()) || (it->is_number() && it->get<double>() == 0);
    if (!empty) body[f] = *it;
  }
  if (body.value("restart_policy", "no") == "no") body.erase("restart_policy");
  return body;
}

}  // namespace dockmesh::common
