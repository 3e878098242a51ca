#include "common/json_fields.hpp"

namespace dockmesh::common {

using nlohmann::json;

const json& field_of(const json& j, std::string_view key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

std::string str_of(const json& j, std::string_view key, std::string_view fallback) {
  const json& v = field_of(j, key);
  return v.is_string() ? v.get<std::string>() : std::string(fallback);
}

std::optional<std::string> str_if(const json& j, std::string_view key) {
  const json& v = field_of(j, key);
  if (!v.is_string()) return std::nullopt;
  return v.get<std::string>();
}

std::int64_t int_of(const json& j, std::string_view key, std::int64_t fallback) {
  const json& v = field_of(j, key);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    // Out-of-range doubles do not convert: keep the fallback rather than invoke UB.
    if (d > -9.2e18 && d < 9.2e18) return static_cast<std::int64_t>(d);
  }
  return fallback;
}

bool bool_of(const json& j, std::string_view key, bool fallback) {
  const json& v = field_of(j, key);
  return v.is_boolean() ? v.get<bool>() : fallback;
}

json object_of(const json& j, std::string_view key) {
  const json& v = field_of(j, key);
  return v.is_object() ? v : json::object();
}

json array_of(const json& j, std::string_view key) {
  const json& v = field_of(j, key);
  return v.is_array() ? v : json::array();
}

}  // namespace dockmesh::common
