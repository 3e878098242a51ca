// json_fields: the one set of readers for JSON that came from outside (requests, bus messages,
// Docker's answers, stored records). nlohmann's value(key, default) throws when the field exists
// with another type ({"id": 1}); these never throw: a missing field, a null or another type gives
// the fallback. The agent (agent/docker_json.hpp), the broker and the bridge
// (ui-bridge/json_fields.hpp) read through them. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dockmesh::common {

// j[key] if j is an object holding key, else a null.
const nlohmann::json& field_of(const nlohmann::json& j, std::string_view key);
std::string str_of(const nlohmann::json& j, std::string_view key, std::string_view fallback = "");
// The string at key, or nothing when it is missing or not a string (an empty string is a value).
std::optional<std::string> str_if(const nlohmann::json& j, std::string_view key);
// Integers as they are; an in-range float is truncated (Docker sends some counters as floats).
std::int64_t int_of(const nlohmann::json& j, std::string_view key, std::int64_t fallback = 0);
bool bool_of(const nlohmann::json& j, std::string_view key, bool fallback = false);
// The field if it is an object (or array), else an empty one.
nlohmann::json object_of(const nlohmann::json& j, std::string_view key);
nlohmann::json array_of(const nlohmann::json& j, std::string_view key);

}  // namespace dockmesh::common
