#include "agent/template_store.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "agent/container_spec.hpp"
#include "agent/docker_grammar.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {
namespace {

using nlohmann::json;

std::string env_name(const json& entry) {
  if (!entry.is_string()) return {};
  const auto& s = entry.get_ref<const std::string&>();
  return s.substr(0, s.find('='));
}

json merge_env(const json& base, const json& over) {
  if (!base.is_array() || !over.is_array()) return over;
  json out = json::array();
  for (const auto& e : base) {
    bool replaced = false;
    for (const auto& o : over) replaced = replaced || env_name(o) == env_name(e);
    if (!replaced) out.push_back(e);
  }
  for (const auto& o : over) out.push_back(o);
  return out;
}

}  // namespace

common::result<void> template_store::add(const std::string& name, const json& body) {
  if (auto ok = check_template_name("template", name); !ok) return ok;
  if (!body.is_object())
    return common::make_error(common::errc::invalid_argument, "a template must be a JSON object");
  if (body.contains("template"))
    return common::make_error(common::errc::invalid_argument,
                              "field 'template': a template may not name another template");
  auto args = common::parse_create_container_args(body);
  if (!args) return args.err();
  // Templates are written by the host's administrator: host-path binds are theirs to allow.
  if (auto ok = validate_create(*args); !ok) return ok;
  templates_[name] = body;
  return {};
}

template_store template_store::load_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  template_store store;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("--templates-dir " + dir + " is not a directory");
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::string file = entry.path().string();
    std::ifstream in(file);
    json body = json::parse(in, nullptr, false);
    if (body.is_discarded()) throw std::runtime_error("template " + file + ": not valid JSON");
    auto ok = store.add(entry.path().stem().string(), body);
    if (!ok) throw std::runtime_error("template " + file + ": " + ok.err().message);
  }
  return store;
}

const json* template_store::find(std::string_view name) const {
  auto it = templates_.find(name);
  return it == templates_.end() ? nullptr : &it->second;
}

std::vector<std::string> template_store::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : templates_) out.push_back(k);
  return out;
}

json template_store::merge(const json& tmpl, const json& request) {
  json out = tmpl.is_object() ? tmpl : json::object();
  if (!request.is_object()) return out;
  for (const auto& [key, value] : request.items()) {
    if (key == "labels" && value.is_object() && out.contains("labels") &&
        out["labels"].is_object()) {
      for (const auto& [k, v] : value.items()) out["labels"][k] = v;
    } else if (key == "env" && out.contains("env")) {
      out["env"] = merge_env(out["env"], value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

}  // namespace dockmesh::agent
