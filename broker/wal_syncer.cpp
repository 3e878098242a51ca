#include "broker/wal_syncer.hpp"

#include <chrono>

#include "common/log.hpp"
#include "common/poll_set.hpp"

namespace dockmesh::broker {

wal_syncer::wal_syncer(state_db& db) : wal_syncer([&db] { return db.sync_wal(); }) {}

wal_syncer::wal_syncer(sync_function sync) : sync_(std::move(sync)) {
  thread_.start([this] {
    thread_.ready();
    run();
  });
}

wal_syncer::~wal_syncer() {
  stop();
}

std::uint64_t wal_syncer::request() {
  std::uint64_t ticket = ++next_;
  requested_.store(ticket);
  thread_.notify();
  return ticket;
}

void wal_syncer::collect() {
  done_.drain();  // before the loads: a completion stored after them notifies again
  durable_ = synced_ok_.load();
  failed_ = synced_failed_.load();
}

void wal_syncer::sync_requested(std::uint64_t& covered) {
  // Read before the fsync starts: every change made before this ticket was requested is in the
  // WAL already, so this one fsync covers them all.
  std::uint64_t want = requested_.load();
  if (want <= covered) return;
  auto r = sync_();
  ++fsyncs_;
  if (!r) {
    DM_LOG(error) << "fsync of the directory's WAL failed: " << r.err().message;
  }
  (r ? synced_ok_ : synced_failed_).store(want);
  covered = want;
  done_.notify();
}

void wal_syncer::run() {
  std::uint64_t covered = 0;
  for (;;) {
    common::poll_set ps;
    auto wake = ps.add_fd(thread_.wake_fd());
    ps.poll(std::chrono::minutes(1));  // only a request or stop() has anything for this thread
    if (ps.ready(wake)) thread_.wake().drain();
    // Read before the sync: every ticket requested before stop() is then covered by it (a stop
    // that comes during the sync finds the wakeup set and gets one more turn).
    bool stopping = thread_.stop_requested();
    sync_requested(covered);
    if (stopping) return;
  }
}

}  // namespace dockmesh::broker
