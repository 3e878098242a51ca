#include "common/json_fields.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::common;
using nlohmann::json;

TEST_CASE("json field readers never throw: a missing field or another type is the fallback") {
  json j = {{"s", "x"},  {"e", ""},         {"i", 7},      {"f", 2.9},    {"big", 1e300},
            {"b", true}, {"o", {{"k", 1}}}, {"a", {1, 2}}, {"n", nullptr}};
  CHECK(str_of(j, "s") == "x");
  CHECK(str_of(j, "i", "fb") == "fb");
  CHECK(str_of(json::array(), "s", "fb") == "fb");
  CHECK(str_if(j, "e") == std::optional<std::string>(""));
  CHECK_FALSE(str_if(j, "n").has_value());
  CHECK_FALSE(str_if(j, "missing").has_value());
  CHECK(int_of(j, "i") == 7);
  CHECK(int_of(j, "f") == 2);
  CHECK(int_of(j, "big", -1) == -1);
  CHECK(int_of(j, "s", 5) == 5);
  CHECK(bool_of(j, "b"));
  CHECK(bool_of(j, "i", true));
  CHECK(object_of(j, "o")["k"] == 1);
  CHECK(object_of(j, "a") == json::object());
  CHECK(array_of(j, "a").size() == 2);
  CHECK(array_of(j, "o") == json::array());
  CHECK(field_of(j, "missing").is_null());
  CHECK(field_of("text", "s").is_null());
}
