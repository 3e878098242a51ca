#include "agent/pull_progress.hpp"

#include <doctest/doctest.h>

#include "agent/recorded_docker.hpp"

using namespace dockmesh::agent;
using dockmesh::common::errc;
using nlohmann::json;

TEST_CASE("image references split into repository and tag the way Docker's pull wants") {
  auto a = split_image_name("localhost:5000/busybox");
  CHECK(a.repository == "localhost:5000/busybox");
  CHECK(a.tag == "latest");  // never empty: an empty tag would pull every tag
  auto b = split_image_name("localhost:5000/busybox:1.36");
  CHECK(b.repository == "localhost:5000/busybox");
  CHECK(b.tag == "1.36");
  CHECK(b.reference() == "localhost:5000/busybox:1.36");
  auto c = split_image_name("busybox@sha256:0123456789abcdef0123456789abcdef");
  CHECK(c.repository == "busybox");
  CHECK(c.reference() == "busybox@sha256:0123456789abcdef0123456789abcdef");
}

TEST_CASE("X-Registry-Auth is base64url JSON with Docker's field names") {
  std::string h = registry_auth_header({"u", "p?>", "localhost:5000"});
  CHECK(h.find_first_of("+/") == std::string::npos);
  // Decoded by hand: base64url of
  // {"password":"p?>","serveraddress":"localhost:5000","username":"u"}
  CHECK(h.rfind("eyJwYXNzd29yZCI6InA_PiIs", 0) == 0);
}

TEST_CASE("progress from a recorded pull, throttled per layer, and the final status") {
  std::vector<json> events;
  progress_sink sink = [&](const json& e) { events.push_back(e); };
  pull_progress p("req", "localhost:5055/payload:v1", sink, std::chrono::hours(1));
  std::string bytes = testing::testdata("pull_stream.jsonl");
  for (std::size_t i = 0; i < bytes.size(); i += 7)
    CHECK(p.feed(std::string_view(bytes).substr(i, 7)));
  CHECK_FALSE(p.failure());
  CHECK(p.last_status() == "Downloaded newer image for localhost:5055/payload:v1");
  // 11 lines, but the three "Extracting" lines of one layer count once with this interval.
  CHECK(events.size() == 9);
  CHECK(p.events_sent() == 9);
  for (const auto& e : events) CHECK(e["request"] == "req");
  auto extracting = std::find_if(events.begin(), events.end(),
                                 [](const json& e) { return e["status"] == "Extracting"; });
  REQUIRE(extracting != events.end());
  CHECK((*extracting)["total"] == 3001191);
}

TEST_CASE("pull errors map to codes") {
  CHECK(pull_error_code("manifest for x not found: manifest unknown") == errc::not_found);
  CHECK(pull_error_code("unauthorized: authentication required") == errc::unauthorized);
  CHECK(pull_error_code("Get \"http://localhost:5999/v2/\": dial tcp 127.0.0.1:5999: connect: "
                        "connection refused") == errc::unavailable);
  CHECK(pull_error_code("something else") == errc::internal);
  progress_sink none;
  pull_progress p("r", "x", none);
  CHECK(p.feed("{\"status\":\"Pulling\"}\n{\"error\":\"pull access denied for x\"}\n"));
  REQUIRE(p.failure());
  CHECK(p.failure()->code == errc::unauthorized);
  pull_progress huge("r", "x", none);
  CHECK_FALSE(huge.feed(std::string(2 * 1024 * 1024, 'x')));  // one endless line
}
