// json_fields: the bridge's names for common's JSON field readers (common/json_fields.hpp, the one
// set every component uses): text_of and integer_of read fields of requests, bus messages and
// stored records without exceptions. Header-only, any thread.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"

namespace dockmesh::bridge {

inline std::string text_of(const nlohmann::json& j, const char* key, std::string fallback = {}) {
  return common::str_of(j, key, fallback);
}

// Integers only (a stored record's times and counters): a float is no integer here.
inline std::int64_t integer_of(const nlohmann::json& j, const char* key,
                               std::int64_t fallback = 0) {
  const nlohmann::json& v = common::field_of(j, key);
  return v.is_number_integer() ? v.get<std::int64_t>() : fallback;
}

}  // namespace dockmesh::bridge
