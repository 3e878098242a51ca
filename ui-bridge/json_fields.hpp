// json_fields: reading fields of JSON that came from outside (requests, bus messages, stored
// records) without exceptions. nlohmann's value(key, default) throws when the field exists with
// another type ({"alg": 1}); these return the fallback instead. Header-only, any thread.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace dockmesh::bridge {

inline std::string text_of(const nlohmann::json& j, const char* key, std::string fallback = {}) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

inline std::int64_t integer_of(const nlohmann::json& j, const char* key,
                               std::int64_t fallback = 0) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

}  // namespace dockmesh::bridge
