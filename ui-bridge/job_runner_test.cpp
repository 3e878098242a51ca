#include "ui-bridge/job_runner.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::bridge;
using dockmesh::common::errc;

TEST_CASE("created container ids are read from the one reply shape agents and brokers use") {
  CHECK(created_ids({{"containers", {{{"id", "a"}}, {{"id", "b"}}}}}) ==
        std::vector<std::string>{"a", "b"});
  // No guessing at other shapes: a reply without "containers" names no container.
  CHECK(created_ids({{"id", "abc"}, {"name", "web"}}).empty());
  CHECK(created_ids({{"ids", {"x", "y"}}}).empty());
  CHECK(created_ids(nlohmann::json::object()).empty());
  CHECK(created_ids(nullptr).empty());
}

TEST_CASE("image references normalise to an explicit tag") {
  CHECK(normalize_image("busybox") == "busybox:latest");
  CHECK(normalize_image("local/busybox:1.36") == "local/busybox:1.36");
  CHECK(normalize_image("localhost:5000/busybox") == "localhost:5000/busybox:latest");
  CHECK(normalize_image("busybox@sha256:abc") == "busybox@sha256:abc");
}

TEST_CASE("pull progress sums the layers of a host") {
  nlohmann::json p = {{"state", "pulling"}};
  apply_pull_progress(
      p, {{"status", "Downloading"}, {"layer", "l1"}, {"current", 10}, {"total", 100}});
  apply_pull_progress(p,
                      {{"status", "Downloading"}, {"layer", "l2"}, {"current", 5}, {"total", 50}});
  apply_pull_progress(
      p, {{"status", "Downloading"}, {"layer", "l1"}, {"current", 60}, {"total", 100}});
  CHECK(p["current"] == 65);
  CHECK(p["total"] == 150);
  apply_pull_progress(p, {{"status", "Status: Downloaded newer image"}, {"layer", ""}});
  CHECK(p["status"] == "Status: Downloaded newer image");
  CHECK(p["total"] == 150);
}

TEST_CASE("pull requests need an image valid for pull-image and 1..256 fqdns, or \"pools\"") {
  schema_registry reg;
  reg.add("pull-image", {{"type", "object"},
                         {"properties", {{"image", {{"type", "string"}, {"minLength", 1}}}}},
                         {"required", {"image"}}});
  auto ok = parse_pull_request({{"image", "busybox"}, {"hosts", {"h1", "h2", "h1"}}}, reg);
  REQUIRE(ok.ok());
  CHECK(ok->hosts == std::vector<std::string>{"h1", "h2"});
  CHECK(parse_pull_request({{"image", 5}, {"hosts", {"h1"}}}, reg)
            .err()
            .message.rfind("image: ", 0) == 0);
  // No hosts (or "pools"): the caller's pools, chosen from the directory when the job starts.
  auto pools = parse_pull_request({{"image", "x"}}, reg);
  REQUIRE(pools.ok());
  CHECK(pools->pools);
  CHECK(pools->hosts.empty());
  CHECK(parse_pull_request({{"image", "x"}, {"hosts", "pools"}}, reg)->pools);
  CHECK(parse_pull_request({{"image", "x"}, {"hosts", "all"}}, reg)
            .err()
            .message.rfind("hosts: ", 0) == 0);
  CHECK(parse_pull_request({{"image", "x"}, {"hosts", nlohmann::json::array()}}, reg).err().code ==
        errc::invalid_argument);
  CHECK(parse_pull_request({{"image", "x"}, {"hosts", {"a/b"}}}, reg).err().code ==
        errc::invalid_argument);
  CHECK_FALSE(parse_pull_request(nlohmann::json::array(), reg).ok());
}

TEST_CASE("hostile pull-progress events never throw") {
  nlohmann::json p = {{"state", "pulling"}};
  for (const auto& e :
       {nlohmann::json{{"layer", 5}}, nlohmann::json{{"layer", "l"}, {"total", "x"}},
        nlohmann::json{{"layer", "l"}, {"current", "x"}, {"total", 10}},
        nlohmann::json{{"status", 3}}, nlohmann::json::array()})
    CHECK_NOTHROW(apply_pull_progress(p, e));
  CHECK(p["total"] == 10);
}
