#include "agent/docker_json.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::agent;

TEST_CASE("docker_json never throws, whatever shape Docker's JSON has") {
  json odd[] = {json(nullptr),
                json(5),
                json("text"),
                json::array({1, 2}),
                json{{"Id", 5}},
                json{{"Id", json::array()}},
                json{{"Names", "x"}},
                json{{"Names", {5}}},
                json{{"Size", 1e300}},
                json{{"Size", "12"}},
                json{{"Labels", json::array()}}};
  for (const auto& j : odd) {
    CAPTURE(j.dump());
    CHECK_NOTHROW(str_of(j, "Id"));
    CHECK_NOTHROW(int_of(j, "Size"));
    CHECK_NOTHROW(bool_of(j, "Running"));
    CHECK(object_of(j, "Labels").is_object());
    CHECK(array_of(j, "Names").is_array());
    CHECK_NOTHROW(container_name_of(j));
  }
  CHECK(int_of(json{{"Size", 1e300}}, "Size", 7) == 7);
  CHECK(int_of(json{{"Size", 12.0}}, "Size") == 12);
  CHECK(str_of(json{{"Id", 5}}, "Id", "none") == "none");
  CHECK(container_name_of(json{{"Names", {"/web"}}}) == "web");
  CHECK(container_name_of(json{{"Name", "/db"}}) == "db");
  CHECK(field_of(json{{"a", 1}}, "a") == 1);
  CHECK(field_of(json{{"a", 1}}, "b").is_null());
}
