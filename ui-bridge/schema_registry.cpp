#include "ui-bridge/schema_registry.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
namespace fs = std::filesystem;

namespace {

nlohmann::json read_json_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot read schema " + p.string());
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error("schema " + p.string() + " is not valid JSON");
  return j;
}

// valijson's context is like {"<root>", "[body]", "[env]", "[0]"}: make it "body.env[0]".
std::string field_path(const std::vector<std::string>& context, const std::string& root) {
  std::string out = root;
  for (const auto& c : context) {
    if (c == "<root>" || c.size() < 2 || c.front() != '[') continue;
    std::string inner = c.substr(1, c.size() - 2);
    bool index = !inner.empty() && inner.find_first_not_of("0123456789") == std::string::npos;
    if (index)
      out += "[" + inner + "]";
    else
      out += (out.empty() ? "" : ".") + inner;
  }
  return out.empty() ? "message" : out;
}

}  // namespace

schema_registry::schema_registry() = default;
schema_registry::~schema_registry() = default;
schema_registry::schema_registry(schema_registry&&) noexcept = default;
schema_registry& schema_registry::operator=(schema_registry&&) noexcept = default;

schema_registry schema_registry::load_dir(const std::string& dir) {
  schema_registry reg;
  reg.dir_ = dir;
  if (!fs::is_directory(dir)) throw std::runtime_error("schemas directory " + dir + " not found");
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    try {
      reg.add(entry.path().stem().string(), read_json_file(entry.path()));
    } catch (const std::exception& e) {
      throw std::runtime_error("schema " + entry.path().string() + ": " + e.what());
    }
  }
  return reg;
}

void schema_registry::add(const std::string& name, const nlohmann::json& schema_doc) {
  auto schema = std::make_shared<valijson::Schema>();
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter adapter(schema_doc);
  std::string dir = dir_;
  auto fetch = [dir](const std::string& uri) -> const nlohmann::json* {
    // Only plain sibling file names: a schema may not reach outside its directory.
    std::string file = uri.substr(0, uri.find('#'));
    if (dir.empty() || file.empty() || file.find('/') != std::string::npos) return nullptr;
    return new nlohmann::json(read_json_file(fs::path(dir) / file));
  };
  auto free_doc = [](const nlohmann::json* doc) { delete doc; };
  parser.populateSchema(adapter, *schema, fetch, free_doc);
  schemas_[name] = std::move(schema);
  documents_[name] = schema_doc;
}

const nlohmann::json* schema_registry::document(const std::string& name) const {
  auto it = documents_.find(name);
  return it == documents_.end() ? nullptr : &it->second;
}

bool schema_registry::has(const std::string& name) const {
  return schemas_.count(name) > 0;
}

std::vector<std::string> schema_registry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : schemas_) out.push_back(name);
  return out;
}

common::result<void> schema_registry::validate(const std::string& name, const nlohmann::json& value,
                                               const std::string& root) const {
  auto it = schemas_.find(name);
  if (it == schemas_.end()) return make_error(errc::not_found, "no schema for " + name);
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(value);
  valijson::ValidationResults results;
  if (validator.validate(*it->second, target, &results)) return {};
  // The deepest error names the field; the outer ones only say "a property failed".
  const valijson::ValidationResults::Error* best = nullptr;
  for (const auto& e : results)
    if (!best || e.context.size() > best->context.size()) best = &e;
  std::string what = best ? best->description : "does not match the schema";
  return make_error(
      errc::invalid_argument,
      field_path(best ? best->context : std::vector<std::string>{}, root) + ": " + what);
}

}  // namespace dockmesh::bridge
