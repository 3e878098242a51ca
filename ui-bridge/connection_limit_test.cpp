#include "ui-bridge/connection_limit.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace dockmesh::bridge;

TEST_CASE("slots are refused at the cap and given back when their connection ends") {
  connection_limit limit(2);
  auto a = limit.acquire();
  auto b = limit.acquire();
  REQUIRE((a && b));
  CHECK(limit.open() == 2);
  CHECK_FALSE(limit.acquire());
  CHECK(limit.open() == 2);
  {
    connection_limit::slot moved = std::move(*a);  // an HTTP session handing over to a WebSocket
    CHECK(limit.open() == 2);
  }
  CHECK(limit.open() == 1);
  auto c = limit.acquire();
  CHECK(c);
  b.reset();
  c.reset();
  CHECK(limit.open() == 0);
}
