// docker_json: reading what dockerd sends without trusting its shape. Docker's answers are JSON,
// but a field may be missing, null, or of another type (an old or odd daemon, a proxy in the way,
// or the fuzzer); these accessors never throw and fall back to an empty value instead, so an
// action never fails with a C++ exception because of what Docker said. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"

namespace dockmesh::agent {

using nlohmann::json;

// The readers are common's (common/json_fields.hpp), the one set every component uses.
using common::array_of;
using common::bool_of;
using common::field_of;
using common::int_of;
using common::object_of;
using common::str_of;

// A container's name without Docker's leading '/': from "Name" (inspect) or "Names"[0] (lists).
std::string container_name_of(const json& c);

}  // namespace dockmesh::agent
