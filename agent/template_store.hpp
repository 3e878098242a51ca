// template_store: named create-container presets read from --templates-dir at start-up. Each file
// <name>.json is a create-container body (image required, no "template" of its own); every file
// is parsed and validated at load, and a bad one stops the agent with a message naming the file
// and the field. merge() lays a request over a template: labels merge key by key, env merges by
// variable name, every other field given in the request replaces the template's. Immutable after
// load, so any thread may read it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dockmesh::agent {

class template_store {
 public:
  template_store() = default;
  // Loads every *.json in `dir`; throws std::runtime_error naming the file and what is wrong.
  static template_store load_dir(const std::string& dir);
  // Adds one template after validating it (errc::invalid_argument naming the field).
  common::result<void> add(const std::string& name, const nlohmann::json& body);

  const nlohmann::json* find(std::string_view name) const;
  std::vector<std::string> names() const;
  std::size_t size() const { return templates_.size(); }

  // The request laid over the template; the request's "template" field is kept.
  static nlohmann::json merge(const nlohmann::json& tmpl, const nlohmann::json& request);

 private:
  std::map<std::string, nlohmann::json, std::less<>> templates_;
};

}  // namespace dockmesh::agent
