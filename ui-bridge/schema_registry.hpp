// schema_registry: the JSON Schemas of schemas/<name>.json, parsed once at start-up with valijson,
// and validation of incoming messages against them before anything is sent on the bus. `$ref`s to
// sibling files ("common.json#/definitions/x") are resolved from the same directory. Read-only
// after construction: validate() is safe from any thread and never blocks.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace valijson {
class Schema;
}

namespace dockmesh::bridge {

class schema_registry {
 public:
  schema_registry();
  ~schema_registry();
  schema_registry(schema_registry&&) noexcept;
  schema_registry& operator=(schema_registry&&) noexcept;

  // Every *.json file of `dir`; throws std::runtime_error naming the file that does not parse.
  static schema_registry load_dir(const std::string& dir);
  // One schema from memory (tests); throws on a malformed schema.
  void add(const std::string& name, const nlohmann::json& schema);

  bool has(const std::string& name) const;
  // The schema document as it was loaded (GET /api/v1/schemas/{name}: the web UI builds its forms
  // from it); nullptr when there is none.
  const nlohmann::json* document(const std::string& name) const;
  std::vector<std::string> names() const;
  // errc::invalid_argument naming the offending field ("body.image: ..."), prefixed by `root`.
  // errc::not_found when there is no schema called `name`.
  common::result<void> validate(const std::string& name, const nlohmann::json& value,
                                const std::string& root = "") const;

 private:
  std::string dir_;  // for $refs to sibling files
  std::map<std::string, std::shared_ptr<valijson::Schema>> schemas_;
  std::map<std::string, nlohmann::json> documents_;
};

}  // namespace dockmesh::bridge
