#include "broker/wal_syncer.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "broker/test_support.hpp"
#include "common/poll_set.hpp"

using namespace dockmesh::broker;
using namespace dockmesh::broker::testing;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

// Polls the syncer's done wakeup as the hub does, until `ticket` is reported (durable or failed)
// or 10 s passed.
void await(wal_syncer& s, std::uint64_t ticket) {
  auto deadline = steady::now() + 10s;
  while (s.durable() < ticket && s.failed() < ticket && steady::now() < deadline) {
    dockmesh::common::poll_set ps;
    ps.add_fd(s.done_fd());
    ps.poll(100ms);
    s.collect();
  }
}

// A sync function the test can hold: each call waits until release() (or until opened for good).
struct held_sync {
  std::mutex m;
  std::condition_variable cv;
  int entered = 0;
  bool open = false;
  bool fail = false;

  dockmesh::common::result<void> operator()() {
    std::unique_lock lock(m);
    ++entered;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
    if (fail) return dockmesh::common::make_error(dockmesh::common::errc::internal, "disk gone");
    return {};
  }
  bool wait_entered(int n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, 10s, [&] { return entered >= n; });
  }
  void release() {
    std::lock_guard lock(m);
    open = true;
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE("deferred sync: sync writes are counted, then made durable off the caller's thread") {
  temp_dir dir;
  state_db db(dir.str());
  db.set_deferred_sync(true);
  REQUIRE(db.put("k/a", 1, true).ok());
  REQUIRE(db.put("k/b", 2, false).ok());
  REQUIRE(db.erase("k/a", true).ok());
  CHECK(db.take_unsynced() == 2);
  CHECK(db.take_unsynced() == 0);
  CHECK(db.get("k/b") == nlohmann::json(2));

  wal_syncer syncer(db);
  auto t1 = syncer.request();
  auto t2 = syncer.request();
  CHECK(t2 > t1);
  await(syncer, t2);
  CHECK(syncer.durable() == t2);
  CHECK(syncer.failed() == 0);
}

TEST_CASE("wal_syncer: requests queued while an fsync runs are covered by one more fsync") {
  auto sync = std::make_shared<held_sync>();
  wal_syncer syncer([sync] { return (*sync)(); });
  auto first = syncer.request();
  REQUIRE(sync->wait_entered(1));  // the first fsync runs (held)
  std::uint64_t last = 0;
  for (int i = 0; i < 1000; ++i) last = syncer.request();
  syncer.collect();
  CHECK(syncer.durable() == 0);  // nothing is reported before its fsync ran
  sync->release();
  await(syncer, last);
  CHECK(syncer.durable() == last);
  CHECK(first < last);
  CHECK(syncer.fsyncs() == 2);  // 1001 requests, two fsyncs
}

TEST_CASE("wal_syncer: stop while a sync is requested syncs it first, then joins promptly") {
  auto sync = std::make_shared<held_sync>();
  wal_syncer syncer([sync] { return (*sync)(); });
  syncer.request();
  REQUIRE(sync->wait_entered(1));
  auto pending = syncer.request();  // requested while the first fsync runs
  std::thread stopper([&] { syncer.stop(); });
  sync->release();
  stopper.join();
  syncer.collect();
  CHECK(syncer.durable() == pending);
  CHECK(syncer.fsyncs() == 2);
  syncer.stop();  // idempotent
}

TEST_CASE("wal_syncer: an idle syncer stops at once; a failed fsync is reported as failed") {
  auto sync = std::make_shared<held_sync>();
  sync->open = true;
  sync->fail = true;
  wal_syncer syncer([sync] { return (*sync)(); });
  auto t = syncer.request();
  await(syncer, t);
  CHECK(syncer.failed() == t);
  CHECK(syncer.durable() == 0);
  auto t0 = steady::now();
  syncer.stop();
  CHECK(steady::now() - t0 < 1s);  // its poll waits up to a minute: only the wakeup ends it
  CHECK(syncer.fsyncs() == 1);
}
