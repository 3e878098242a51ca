#include "agent/log_demux.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

using dockmesh::agent::log_demux;

namespace {

std::string recorded() {
  std::ifstream in(DOCKMESH_AGENT_TESTDATA "/logs_multiplexed.bin", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string frame(unsigned char stream, std::string_view payload) {
  std::string f{static_cast<char>(stream), 0, 0, 0};
  auto n = static_cast<std::uint32_t>(payload.size());
  for (int shift : {24, 16, 8, 0}) f += static_cast<char>((n >> shift) & 0xff);
  return f + std::string(payload);
}

}  // namespace

TEST_CASE("log_demux splits a recorded Docker log stream into stdout and stderr") {
  std::string bytes = recorded();
  REQUIRE(bytes.size() == 38);
  log_demux d;
  REQUIRE(d.feed(bytes).ok());
  d.finish();
  CHECK(d.out() == "out-line-1\n");
  CHECK(d.err() == "err-line-1\n");
  CHECK_FALSE(d.incomplete());
  CHECK_FALSE(d.truncated());
}

TEST_CASE("log_demux gives the same answer whatever the chunk boundaries") {
  std::string bytes = recorded();
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    log_demux d;
    REQUIRE(d.feed(std::string_view(bytes).substr(0, cut)).ok());
    REQUIRE(d.feed(std::string_view(bytes).substr(cut)).ok());
    CHECK(d.out() == "out-line-1\n");
    CHECK(d.err() == "err-line-1\n");
  }
  log_demux one_by_one;
  for (char c : bytes) REQUIRE(one_by_one.feed(std::string_view(&c, 1)).ok());
  CHECK(one_by_one.err() == "err-line-1\n");
}

TEST_CASE("log_demux reports a stream cut inside a frame and keeps what arrived") {
  std::string bytes = recorded();
  log_demux mid_payload;
  REQUIRE(mid_payload.feed(bytes.substr(0, 14)).ok());  // header + 6 payload bytes
  CHECK(mid_payload.incomplete());
  CHECK(mid_payload.out() == "out-li");
  log_demux mid_header;
  REQUIRE(mid_header.feed(bytes.substr(0, 19 + 4)).ok());  // first frame + half a header
  CHECK(mid_header.incomplete());
  CHECK(mid_header.out() == "out-line-1\n");
  CHECK(mid_header.err().empty());
}

TEST_CASE("log_demux refuses bytes that are not Docker frames") {
  log_demux d;
  auto r = d.feed("2024-01-01T00:00:00Z hello from a TTY container\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == dockmesh::common::errc::malformed);
  CHECK_FALSE(d.feed(frame(1, "x")).ok());  // stays broken
  log_demux padding;
  CHECK_FALSE(padding.feed(std::string("\x01\x00\x01\x00\x00\x00\x00\x01x", 9)).ok());
}

TEST_CASE("log_demux handles empty frames, stdin, and the daemon's own error stream") {
  log_demux d;
  REQUIRE(d.feed(frame(1, "") + frame(0, "in") + frame(3, "daemon says no") + frame(2, "e")).ok());
  CHECK(d.out() == "in");
  CHECK(d.err() == "e");
  CHECK(d.daemon_error() == "daemon says no");
}

TEST_CASE("log_demux keeps the newest bytes when over its cap, starting at a line") {
  log_demux d(64);
  for (int i = 0; i < 100; ++i) REQUIRE(d.feed(frame(1, "line " + std::to_string(i) + "\n")).ok());
  d.finish();
  CHECK(d.truncated());
  CHECK(d.out().size() <= 64);
  CHECK(d.out().rfind("line 99\n") == d.out().size() - 8);
  CHECK(d.out().substr(0, 5) == "line ");
  CHECK(d.dropped_bytes() + d.out().size() == 790);
}
