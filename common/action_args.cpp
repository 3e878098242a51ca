#include "common/action_args.hpp"

#include "common/body_reader.hpp"

namespace dockmesh::common {
namespace {

using nlohmann::json;

constexpr std::int64_t max_i64 = INT64_MAX;

}  // namespace

result<empty_args> parse_empty_args(const json& body) {
  body_reader r(body, empty_args::fields);
  return r.finish(empty_args{});
}

result<list_containers_args> parse_list_containers_args(const json& body) {
  list_containers_args a;
  body_reader r(body, a.fields);
  r.boolean("all", a.all);
  r.str("label", a.label, false, 4300);
  r.str("name", a.name, false, 128);
  r.str("status", a.status, false, 16);
  return r.finish(a);
}

result<container_ref_args> parse_container_ref_args(const json& body) {
  container_ref_args a;
  body_reader r(body, a.fields);
  r.str("id", a.id, true, 128);
  return r.finish(a);
}

result<stop_container_args> parse_stop_container_args(const json& body) {
  stop_container_args a;
  body_reader r(body, a.fields);
  r.str("id", a.id, true, 128);
  r.integer("timeout", a.timeout, 0, 3600);
  return r.finish(a);
}

result<kill_container_args> parse_kill_container_args(const json& body) {
  kill_container_args a;
  body_reader r(body, a.fields);
  r.str("id", a.id, true, 128);
  r.str("signal", a.signal, false, 16);
  return r.finish(a);
}

result<remove_container_args> parse_remove_container_args(const json& body) {
  remove_container_args a;
  body_reader r(body, a.fields);
  r.str("id", a.id, true, 128);
  r.boolean("force", a.force);
  r.boolean("volumes", a.volumes);
  return r.finish(a);
}

result<container_logs_args> parse_container_logs_args(const json& body) {
  container_logs_args a;
  body_reader r(body, a.fields);
  r.str("id", a.id, true, 128);
  if (const json* t = r.get("tail"); t && t->is_string()) {
    if (*t != "all") r.fail("field 'tail' must be a number of lines or \"all\"");
  } else {
    r.integer("tail", a.tail, 0, 1000000);
  }
  r.integer("since", a.since, 0, max_i64);
  r.boolean("timestamps", a.timestamps);
  r.boolean("stdout", a.include_stdout);
  r.boolean("stderr", a.include_stderr);
  return r.finish(a);
}

namespace {

result<port_spec> parse_port(const json& j, const std::string& where) {
  port_spec p;
  body_reader r(j, p.fields, where);
  if (!r.get("container_port", true)) return r.finish(p);
  r.integer("container_port", p.container_port, 1, 65535);
  r.str("protocol", p.protocol, false, 8);
  if (!r.failed() && p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "sctp")
    r.fail("field '" + where + ".protocol' must be tcp, udp or sctp");
  r.integer("host_port", p.host_port, 0, 65535);
  r.str("host_ip", p.host_ip, false, 45);
  return r.finish(p);
}

void read_ports(body_reader& r, const json* j, std::vector<port_spec>& out) {
  if (!j) return;
  if (!j->is_array()) return r.fail("field 'ports' must be an array of objects");
  if (j->size() > 64) return r.fail("field 'ports' has more than 64 items");
  for (std::size_t i = 0; i < j->size(); ++i) {
    auto p = parse_port((*j)[i], "ports[" + std::to_string(i) + "]");
    if (!p) return r.adopt(p.err());
    out.push_back(*p);
  }
}

void read_healthcheck(body_reader& r, const json* j, std::optional<healthcheck_spec>& out) {
  if (!j || r.failed()) return;
  healthcheck_spec h;
  body_reader hr(*j, h.fields, "healthcheck");
  if (!hr.get("test", true)) return r.adopt(hr.finish(h).err());
  hr.str_list("test", h.test, 64, 4096);
  if (!hr.failed() &&
      (h.test.empty() || (h.test[0] != "CMD" && h.test[0] != "CMD-SHELL" && h.test[0] != "NONE")))
    hr.fail("field 'healthcheck.test' must start with CMD, CMD-SHELL or NONE");
  hr.integer("interval_s", h.interval_s, 0, 86400);
  hr.integer("timeout_s", h.timeout_s, 0, 86400);
  hr.integer("retries", h.retries, 0, 1000);
  hr.integer("start_period_s", h.start_period_s, 0, 86400);
  auto done = hr.finish(h);
  if (!done) return r.adopt(done.err());
  out = *done;
}

}  // namespace

result<create_container_args> parse_create_container_args(const json& body) {
  create_container_args a;
  body_reader r(body, a.fields);
  r.str("image", a.image, false, 255);
  r.str("template", a.template_name, false, 64);
  r.str("name", a.name, false, 120);
  r.opt_str_list("cmd", a.cmd);
  r.opt_str_list("entrypoint", a.entrypoint);
  r.str_list("env", a.env);
  r.str_map("labels", a.labels);
  r.str("working_dir", a.working_dir);
  r.str("user", a.user, false, 129);
  read_ports(r, r.get("ports"), a.ports);
  r.str_list("binds", a.binds, 64, 8300);
  r.str_list("volumes", a.volumes, 64, 4096);
  r.integer("memory", a.memory, 0, max_i64);
  r.number("cpus", a.cpus, 0, 1024);
  r.str("restart_policy", a.restart_policy, false, 32);
  r.str("network_mode", a.network_mode, false, 140);
  r.boolean("start", a.start);
  r.integer("instances", a.instances, 1, 50);
  r.integer("stop_timeout", a.stop_timeout, -1, 3600);
  r.integer("first_instance", a.first_instance, 0, 100000);
  r.boolean("per_host_names", a.per_host_names);
  read_healthcheck(r, r.get("healthcheck"), a.healthcheck);
  if (!r.failed() && a.image.empty() && a.template_name.empty())
    r.fail("field 'image' is required (or name a 'template')");
  return r.finish(a);
}

result<list_images_args> parse_list_images_args(const json& body) {
  list_images_args a;
  body_reader r(body, a.fields);
  r.boolean("all", a.all);
  r.str("reference", a.reference, false, 255);
  return r.finish(a);
}

result<image_ref_args> parse_image_ref_args(const json& body) {
  image_ref_args a;
  body_reader r(body, a.fields);
  r.str("image", a.image, true, 255);
  return r.finish(a);
}

result<pull_image_args> parse_pull_image_args(const json& body) {
  pull_image_args a;
  body_reader r(body, a.fields);
  r.str("image", a.image, true, 255);
  if (const json* j = r.get("auth")) {
    registry_auth auth;
    body_reader ar(*j, auth.fields, "auth");
    ar.str("username", auth.username, false, 256);
    ar.str("password", auth.password, false, 4096);
    ar.str("server_address", auth.server_address, false, 256);
    auto parsed = ar.finish(auth);
    if (!parsed)
      r.adopt(parsed.err());
    else
      a.auth = *parsed;
  }
  return r.finish(a);
}

result<remove_image_args> parse_remove_image_args(const json& body) {
  remove_image_args a;
  body_reader r(body, a.fields);
  r.str("image", a.image, true, 255);
  r.boolean("force", a.force);
  r.boolean("noprune", a.noprune);
  return r.finish(a);
}

namespace {

// Optional strings are left out when empty, so that to_json() output validates against the schema.
void put(json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

}  // namespace

json to_json(const empty_args&) {
  return json::object();
}
json to_json(const list_containers_args& a) {
  json j = {{"all", a.all}};
  put(j, "label", a.label);
  put(j, "name", a.name);
  put(j, "status", a.status);
  return j;
}
json to_json(const container_ref_args& a) {
  return {{"id", a.id}};
}
json to_json(const stop_container_args& a) {
  return {{"id", a.id}, {"timeout", a.timeout}};
}
json to_json(const kill_container_args& a) {
  return {{"id", a.id}, {"signal", a.signal}};
}
json to_json(const remove_container_args& a) {
  return {{"id", a.id}, {"force", a.force}, {"volumes", a.volumes}};
}
json to_json(const container_logs_args& a) {
  return {{"id", a.id},
          {"tail", a.tail < 0 ? json("all") : json(a.tail)},
          {"since", a.since},
          {"timestamps", a.timestamps},
          {"stdout", a.include_stdout},
          {"stderr", a.include_stderr}};
}
json to_json(const port_spec& a) {
  json j = {
      {"container_port", a.container_port}, {"protocol", a.protocol}, {"host_port", a.host_port}};
  put(j, "host_ip", a.host_ip);
  return j;
}
json to_json(const create_container_args& a) {
  json ports = json::array();
  for (const auto& p : a.ports) ports.push_back(to_json(p));
  json j = {{"env", a.env},
            {"labels", a.labels},
            {"ports", ports},
            {"binds", a.binds},
            {"volumes", a.volumes},
            {"memory", a.memory},
            {"cpus", a.cpus},
            {"start", a.start},
            {"instances", a.instances},
            {"first_instance", a.first_instance},
            {"per_host_names", a.per_host_names},
            {"stop_timeout", a.stop_timeout}};
  if (a.labels.empty()) j["labels"] = json::object();
  put(j, "image", a.image);
  put(j, "template", a.template_name);
  put(j, "name", a.name);
  put(j, "working_dir", a.working_dir);
  put(j, "user", a.user);
  put(j, "restart_policy", a.restart_policy);
  put(j, "network_mode", a.network_mode);
  if (a.cmd) j["cmd"] = *a.cmd;
  if (a.entrypoint) j["entrypoint"] = *a.entrypoint;
  if (a.healthcheck)
    j["healthcheck"] = {{"test", a.healthcheck->test},
                        {"interval_s", a.healthcheck->interval_s},
                        {"timeout_s", a.healthcheck->timeout_s},
                        {"retries", a.healthcheck->retries},
                        {"start_period_s", a.healthcheck->start_period_s}};
  return j;
}
json to_json(const list_images_args& a) {
  json j = {{"all", a.all}};
  put(j, "reference", a.reference);
  return j;
}
json to_json(const image_ref_args& a) {
  return {{"image", a.image}};
}
json to_json(const pull_image_args& a) {
  json j = {{"image", a.image}};
  if (a.auth)
    j["auth"] = {{"username", a.auth->username},
                 {"password", a.auth->password},
                 {"server_address", a.auth->server_address}};
  return j;
}
json to_json(const remove_image_args& a) {
  return {{"image", a.image}, {"force", a.force}, {"noprune", a.noprune}};
}

}  // namespace dockmesh::common
