#include "common/service_spec.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::common;
using nlohmann::json;

TEST_CASE("a service spec gets its defaults; bad fields are named") {
  auto s = check_service_spec({{"image", "local/busybox:latest"}});
  REQUIRE(s);
  CHECK((*s)["replicas"] == 1);
  CHECK((*s)["placement"]["strategy"] == "spread");
  CHECK((*s)["reschedule"]["on_return"] == "remove-returned");
  auto bad = [](const json& spec) {
    auto r = check_service_spec(spec);
    return r ? std::string() : r.err().message;
  };
  CHECK(bad(json::object()).find("spec.image") != std::string::npos);
  CHECK(bad({{"image", "x"}, {"replicas", 1001}}).find("spec.replicas") != std::string::npos);
  CHECK(bad({{"image", "x"}, {"privileged", true}}).find("spec.privileged") != std::string::npos);
  CHECK(bad({{"image", "x"}, {"update", {{"batch_size", 0}}}}).find("spec.update.batch_size") !=
        std::string::npos);
  CHECK(bad({{"image", "x"}, {"placement", {{"constraints", {"zone"}}}}}).find("constraints") !=
        std::string::npos);
  CHECK(bad({{"image", "x"}, {"ports", {{{"host_port", 80}}}}}).find("container_port") !=
        std::string::npos);
  CHECK(bad({{"image", "x"}, {"restart_policy", "sometimes"}}).find("restart_policy") !=
        std::string::npos);
  CHECK(bad({{"image", "x"}, {"cpus", -1}}).find("spec.cpus") != std::string::npos);
}

TEST_CASE("a partial update merges nested policies field by field") {
  auto s = check_service_spec({{"image", "a"}, {"update", {{"batch_size", 2}}}});
  REQUIRE(s);
  auto m = merge_service_spec(*s, {{"update", {{"delay_s", 3}}}, {"replicas", 4}});
  REQUIRE(m);
  CHECK((*m)["update"]["batch_size"] == 2);
  CHECK((*m)["update"]["delay_s"] == 3);
  CHECK((*m)["replicas"] == 4);
  CHECK_FALSE(container_spec_differs(*s, *m));
  auto img = merge_service_spec(*s, {{"image", "b"}});
  REQUIRE(img);
  CHECK(container_spec_differs(*s, *img));
  CHECK_FALSE(merge_service_spec(*s, {{"image", ""}}));
}

TEST_CASE("object names and a replica's create body") {
  CHECK(valid_object_name("shop-2"));
  CHECK_FALSE(valid_object_name("-shop"));
  CHECK_FALSE(valid_object_name("Shop"));
  CHECK_FALSE(valid_object_name(std::string(32, 'a')));
  CHECK_FALSE(valid_object_name(""));
  auto s = check_service_spec({{"image", "a"}, {"cmd", {"sleep", "1"}}, {"replicas", 3}});
  REQUIRE(s);
  json body = replica_create_body(*s);
  CHECK(body == json{{"image", "a"}, {"cmd", {"sleep", "1"}}, {"network_mode", "none"}});
}

TEST_CASE("a service's health check is checked and is part of what the containers run") {
  using dockmesh::common::check_service_spec;
  using dockmesh::common::container_spec_differs;
  nlohmann::json hc = {{"test", {"CMD-SHELL", "true"}}, {"interval_s", 1}};
  auto s = check_service_spec({{"image", "x"}, {"healthcheck", hc}});
  REQUIRE(s);
  CHECK((*s)["healthcheck"] == hc);
  CHECK(container_spec_differs(*s, *check_service_spec({{"image", "x"}})));
  for (nlohmann::json bad : {nlohmann::json{{"interval_s", 1}}, nlohmann::json{{"test", {"true"}}},
                             nlohmann::json{{"test", {"CMD"}}, {"timeout_s", -1}},
                             nlohmann::json{{"test", {"CMD"}}, {"other", 1}}})
    CHECK_FALSE(check_service_spec({{"image", "x"}, {"healthcheck", bad}}));
}
