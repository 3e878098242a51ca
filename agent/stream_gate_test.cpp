#include "agent/stream_gate.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace dockmesh::agent;

TEST_CASE("a stream gate lets pieces through while credit lasts, then holds the sender") {
  stream_gate g(1000);
  CHECK(g.acquire(600));
  CHECK(g.acquire(600));  // credit was positive: may go below zero by one piece
  CHECK(g.credit() == -200);
  std::atomic<bool> passed{false};
  std::thread sender([&] { passed = g.acquire(100); });
  // The sender must be held: grant only what leaves credit at zero, then check it still waits.
  g.grant(200);
  for (int i = 0; i < 20; ++i) {  // a negative can only be watched for a while: 200 ms
    CHECK_FALSE(passed.load());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  g.grant(1);
  sender.join();
  CHECK(passed.load());
  CHECK(g.credit() == -99);
}

TEST_CASE("cancelling a gate releases a held sender and keeps the first reason") {
  stream_gate g(0);
  bool result = true;
  std::thread sender([&] { result = g.acquire(1); });
  g.cancel("lease expired");
  g.cancel("cancelled");
  sender.join();
  CHECK_FALSE(result);
  CHECK(g.cancelled());
  CHECK(g.reason() == "lease expired");
  CHECK(g.cancel_flag()->load());
}
