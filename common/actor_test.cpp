#include "common/actor.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/poll_set.hpp"

using dockmesh::common::actor;
using dockmesh::common::poll_set;
using dockmesh::common::wakeup;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// A body shaped like the real loops: one poll_set with the wake slot, a long poll timeout (so
// that only a notification can end a wait early), the stop flag checked after every poll.
void count_wakes(actor& a, std::atomic<int>& wakes) {
  a.ready();
  for (;;) {
    poll_set ps;
    auto wake = ps.add_fd(a.wake_fd());
    ps.poll(10s);
    if (ps.ready(wake)) {
      a.wake().drain();
      ++wakes;
    }
    if (a.stop_requested()) return;
  }
}

}  // namespace

TEST_CASE("actor: start rethrows what the body threw before it was ready") {
  actor a("failing");
  CHECK_THROWS_WITH_AS(a.start([] { throw std::runtime_error("no socket"); }), "no socket",
                       std::runtime_error);
  CHECK_FALSE(a.running());
  a.stop();  // nothing to join
}

TEST_CASE("actor: start returns once the body is ready; stop is prompt and idempotent") {
  actor a("looping");
  std::atomic<int> wakes{0};
  std::atomic<bool> set_up{false};
  a.start([&] {
    std::this_thread::sleep_for(50ms);  // set-up work start() must wait for
    set_up = true;
    count_wakes(a, wakes);
  });
  CHECK(set_up);
  CHECK(a.running());
  auto t0 = steady::now();
  a.stop();
  CHECK(steady::now() - t0 < 2s);  // the poll waits up to 10 s: only the wakeup ends it
  CHECK_FALSE(a.running());
  CHECK(a.stop_requested());
  a.stop();
  a.stop();
}

TEST_CASE("actor: notify from several threads wakes the loop") {
  actor a("woken");
  std::atomic<int> wakes{0};
  a.start([&] { count_wakes(a, wakes); });
  std::vector<std::thread> senders;
  for (int i = 0; i < 4; ++i)
    senders.emplace_back([&] {
      for (int n = 0; n < 100; ++n) a.notify();
    });
  for (auto& t : senders) t.join();
  auto deadline = steady::now() + 5s;
  while (wakes == 0 && steady::now() < deadline) std::this_thread::sleep_for(1ms);
  CHECK(wakes >= 1);
  CHECK(wakes <= 400);  // notifications that pile up are drained by one read
  // Each notification after the loop drained is seen again: the fd is level-triggered.
  int before = wakes;
  a.notify();
  deadline = steady::now() + 5s;
  while (wakes == before && steady::now() < deadline) std::this_thread::sleep_for(1ms);
  CHECK(wakes > before);
  a.stop();
}

TEST_CASE("actor: a body that returns without ready() still releases start") {
  actor a("early");
  a.start([] {});
  a.stop();
  CHECK_FALSE(a.running());
}

TEST_CASE("wakeup: drain clears pending notifications") {
  wakeup w;
  w.notify();
  w.notify();
  poll_set ps;
  auto slot = ps.add_fd(w.fd());
  ps.poll(1s);
  CHECK(ps.ready(slot));
  w.drain();
  poll_set again;
  auto slot2 = again.add_fd(w.fd());
  again.poll(0ms);
  CHECK_FALSE(again.ready(slot2));
}
