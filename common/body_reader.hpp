// body_reader: the strict reader for request bodies, the other half of common/json_fields.hpp
// (whose readers are lenient: a wrong type gives the fallback). Every typed body (action_args,
// stream_args) is read through it: unknown fields, wrong types and values out of bounds are
// errors that name the field. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dockmesh::common {

// "an integer", "a string", ...: how an error message names the type a client sent.
std::string json_type_name(const nlohmann::json& j);

// Reads one request body (a JSON object) field by field into a struct; refuses fields not in
// `fields`, remembers the first error (which names the field, with `prefix.` for nested objects)
// and skips every read after it. A null field counts as missing: the struct's default stays.
class body_reader {
 public:
  body_reader(const nlohmann::json& body, std::span<const std::string_view> fields,
              std::string prefix = {});

  // The field, or nullptr when it is missing or null (an error if `required`).
  const nlohmann::json* get(std::string_view key, bool required = false);
  // `required` also refuses an empty string.
  void str(std::string_view key, std::string& out, bool required = false, std::size_t max = 4096);
  void boolean(std::string_view key, bool& out);
  void integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max);
  void number(std::string_view key, double& out, double min, double max);
  void str_list(std::string_view key, std::vector<std::string>& out, std::size_t max_items = 256,
                std::size_t max_len = 32768);
  void opt_str_list(std::string_view key, std::optional<std::vector<std::string>>& out);
  void str_map(std::string_view key, std::map<std::string, std::string>& out,
               std::size_t max_items = 256, std::size_t max_len = 4096);

  std::string name(std::string_view key) const;
  void fail(std::string message);
  void adopt(const error& e);
  bool failed() const { return err_.has_value(); }
  template <class T>
  result<T> finish(T value) {
    if (err_) return *err_;
    return value;
  }

 private:
  void check_known(std::span<const std::string_view> fields);
  void wrong_type(std::string_view key, std::string_view want, const nlohmann::json& got);
  void range(std::string_view key, std::int64_t min, std::int64_t max);

  const nlohmann::json& body_;
  std::string prefix_;
  std::optional<error> err_;
};

}  // namespace dockmesh::common
