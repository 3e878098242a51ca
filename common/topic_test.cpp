#include "common/topic.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::common;

TEST_CASE("fixed topics end in a slash") {
  CHECK(topic_ann() == "ann/");
  CHECK(topic_req_any() == "req/any/");
  CHECK(topic_req_all() == "req/all/");
  CHECK(topic_dir() == "dir/");
  CHECK(*topic_req_host("host1.mesh.test") == "req/host/host1.mesh.test/");
  CHECK(*topic_evt_host("a") == "evt/host/a/");
  CHECK(*topic_rep("ctl-1") == "rep/ctl-1/");
}

TEST_CASE("a host's topic is never a prefix of a longer sibling's") {
  std::string a = *topic_req_host("a");
  std::string ab = *topic_req_host("ab");
  CHECK(ab.rfind(a, 0) != 0);  // subscribing to "req/host/a/" cannot match "req/host/ab/"
  std::string h1 = *topic_req_host("host1");
  std::string h10 = *topic_req_host("host10");
  CHECK(h10.rfind(h1, 0) != 0);
}

TEST_CASE("segments that could break the topic structure are refused") {
  for (const char* bad : {"", "a/b", "a b", ".hidden", "-x", "a\nb", "../x", "ä"})
    CHECK_FALSE(topic_req_host(bad).ok());
  CHECK_FALSE(topic_req_host(std::string("a\0b", 3)).ok());
  CHECK_FALSE(topic_req_host(std::string(254, 'a')).ok());
  CHECK(topic_req_host(std::string(253, 'a')).ok());
}

TEST_CASE("parse_topic recognises every kind and rejects the rest") {
  CHECK(parse_topic("ann/")->kind == topic_kind::ann);
  CHECK(parse_topic("req/any/")->kind == topic_kind::req_any);
  CHECK(parse_topic("req/all/")->kind == topic_kind::req_all);
  auto h = parse_topic("req/host/host1.mesh.test/");
  REQUIRE(h.ok());
  CHECK(h->kind == topic_kind::req_host);
  CHECK(h->name == "host1.mesh.test");
  CHECK(parse_topic("evt/host/x/")->kind == topic_kind::evt_host);
  CHECK(parse_topic("rep/ctl-1/")->name == "ctl-1");
  CHECK_FALSE(parse_topic("req/host/").ok());
  CHECK_FALSE(parse_topic("req/host/x").ok());
  CHECK_FALSE(parse_topic("req/host/x/y/").ok());
  CHECK_FALSE(parse_topic("req/anyx/").ok());
  CHECK_FALSE(parse_topic("ann").ok());
  CHECK_FALSE(parse_topic("annx/").ok());
  CHECK_FALSE(parse_topic("bogus/").ok());
}
