#include "common/stream_reader.hpp"

#include <doctest/doctest.h>

#include "common/protocol/names.hpp"

using namespace dockmesh::common;
namespace names = dockmesh::common::protocol::names;

namespace {

bus_message piece(std::string stream, std::int64_t seq, std::string sender = "agent:h1",
                  std::string_view action = names::stream_data) {
  bus_message m;
  m.sender = std::move(sender);
  m.env.id = new_message_id();
  m.env.action = action;
  m.env.body = {{"stream", std::move(stream)}, {"seq", seq}, {"data", "x"}};
  return m;
}

}  // namespace

TEST_CASE("a stream reader takes its own stream's pieces once, in order") {
  auto now = stream_reader::clock::now();
  stream_reader r("s1", "h1", 65536, now);
  CHECK(r.accept(piece("s1", 1)) == stream_input::data);
  CHECK(r.accept(piece("s1", 1)) == stream_input::duplicate);  // the second broker's copy
  CHECK(r.accept(piece("s2", 2)) == stream_input::not_mine);
  CHECK(r.accept(piece("s1", 2, "agent:h2")) == stream_input::not_mine);  // another agent
  CHECK(r.accept(piece("s1", 2, "bridge:bridge")) == stream_input::not_mine);
  CHECK(r.accept(piece("s1", 4)) == stream_input::data);
  CHECK(r.gaps() == 2);  // 2 and 3 never came
  CHECK(r.accept(piece("s1", 5, "agent:h1", names::stream_end)) == stream_input::end);
}

TEST_CASE("a stream reader grants what was consumed at half a window, and renews the lease") {
  auto now = stream_reader::clock::now();
  stream_reader r("s1", "h1", 8192, now);
  CHECK_FALSE(r.due(now));
  r.consumed(1000);
  CHECK_FALSE(r.due(now));
  r.consumed(10);  // charged as min_stream_charge
  r.consumed(3000);
  auto g = r.due(now);
  REQUIRE(g);
  CHECK(*g == 1000 + static_cast<std::int64_t>(min_stream_charge) + 3000);
  CHECK_FALSE(r.due(now));
  auto later = now + stream_reader::renew_every;
  auto renew = r.due(later);
  REQUIRE(renew);
  CHECK(*renew == 0);  // nothing consumed: a lease renewal only
  auto credit = r.credit_message(4096, "ctl-x");
  CHECK(credit.action == names::stream_credit);
  CHECK(credit.body["stream"] == "s1");
  CHECK(credit.body["credit"] == 4096);
  CHECK(r.cancel_message("ctl-x").action == names::stream_cancel);
}

TEST_CASE("stream arguments: windows are bounded, unknown fields refused") {
  auto a = parse_follow_logs_args({{"id", "web"}});
  REQUIRE(a);
  CHECK(a->credit == default_stream_credit);
  CHECK(a->logs.tail == 100);
  CHECK_FALSE(parse_follow_logs_args({{"id", "web"}, {"credit", 10}}));
  CHECK_FALSE(parse_follow_stats_args({{"id", "web"}, {"credit", max_stream_credit + 1}}));
  CHECK_FALSE(parse_follow_stats_args({{"id", "web"}, {"follow", true}}));
  CHECK_FALSE(parse_stream_credit_args({{"credit", 5}}));
  CHECK(parse_stream_credit_args({{"stream", "s"}})->credit == 0);
  CHECK_FALSE(parse_stream_cancel_args({{"stream", ""}}));
  CHECK(parse_stream_cancel_args({{"stream", "s"}})->stream == "s");
}
