#include "broker/unscheduled_requests.hpp"

#include <doctest/doctest.h>

using namespace dockmesh;
using namespace dockmesh::broker;

namespace {

common::envelope create(std::string id, std::string reply_to = "rep/ctl-1/") {
  common::envelope e;
  e.id = std::move(id);
  e.action = "create-container";
  e.from = "ctl-1";
  e.reply_to = std::move(reply_to);
  e.user = "alice";
  e.role = "user";
  e.body = {{"image", "x"}};
  return e;
}

}  // namespace

TEST_CASE(
    "unscheduled_requests: a held request is answered 503 naming etcd's error, once, when due") {
  unscheduled_requests held("broker-2");
  held.hold(create("r1"), "http://127.0.0.1:2379: Timeout was reached", 1000);
  CHECK(held.due(1000 + unscheduled_requests::answer_after_ms - 1).empty());
  auto out = held.due(1000 + unscheduled_requests::answer_after_ms);
  REQUIRE(out.size() == 1);
  CHECK(out[0].topic == "rep/ctl-1/");
  CHECK(out[0].env.re == "r1");
  CHECK(out[0].env.code == 503);
  REQUIRE(out[0].env.err);
  CHECK(out[0].env.err->message.find(
            "broker-2 cannot reach etcd (http://127.0.0.1:2379: Timeout") == 0);
  CHECK(held.due(1000000).empty());
  CHECK(held.size() == 0);
}

TEST_CASE("unscheduled_requests: another broker's answer, or one of its sub-replies, silences it") {
  unscheduled_requests held("broker-2");
  held.hold(create("single"), "down", 0);
  held.hold(create("fan"), "down", 0);
  held.hold(create("other"), "down", 0);
  held.answered("single");
  held.answered("fan-2");
  held.answered("unrelated-1");
  auto out = held.due(unscheduled_requests::answer_after_ms);
  REQUIRE(out.size() == 1);
  CHECK(out[0].env.re == "other");
}

TEST_CASE(
    "unscheduled_requests: a retry restarts the wait and is answered to its own reply topic") {
  unscheduled_requests held("broker-2");
  held.hold(create("r1", "rep/ctl-1/"), "down", 0);
  auto retry = create("r1", "rep/ctl-2/");
  retry.attempt = 1;
  held.hold(retry, "down", 1500);
  CHECK(held.due(unscheduled_requests::answer_after_ms).empty());
  auto out = held.due(1500 + unscheduled_requests::answer_after_ms);
  REQUIRE(out.size() == 1);
  CHECK(out[0].topic == "rep/ctl-2/");
}

TEST_CASE("unscheduled_requests: nobody to answer, nothing held; bounded") {
  unscheduled_requests held("broker-2");
  held.hold(create("r1", ""), "down", 0);
  CHECK(held.size() == 0);
  for (std::size_t i = 0; i < unscheduled_requests::max_entries + 5; ++i)
    held.hold(create(std::string("r").append(std::to_string(i))), "down", 0);
  CHECK(held.size() == unscheduled_requests::max_entries);
}
