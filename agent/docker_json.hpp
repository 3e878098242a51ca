// docker_json: reading what dockerd sends without trusting its shape. Docker's answers are JSON,
// but a field may be missing, null, or of another type (an old or odd daemon, a proxy in the way,
// or the fuzzer); these accessors never throw and fall back to an empty value instead, so an
// action never fails with a C++ exception because of what Docker said. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dockmesh::agent {

using nlohmann::json;

// j[key] if j is an object holding key, else a null.
const json& field_of(const json& j, std::string_view key);
std::string str_of(const json& j, std::string_view key, std::string_view fallback = "");
std::int64_t int_of(const json& j, std::string_view key, std::int64_t fallback = 0);
bool bool_of(const json& j, std::string_view key, bool fallback = false);
// The field if it is an object (or array), else an empty one.
json object_of(const json& j, std::string_view key);
json array_of(const json& j, std::string_view key);
// A container's name without Docker's leading '/': from "Name" (inspect) or "Names"[0] (lists).
std::string container_name_of(const json& c);

}  // namespace dockmesh::agent
