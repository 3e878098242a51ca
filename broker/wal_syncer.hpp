// wal_syncer: an actor that fsyncs the state_db's write-ahead log on its own thread, so that the
// hub loop never waits on the disk. The hub asks with request(): it raises the requested ticket
// (an atomic) and notifies the syncer's actor wakeup. It keeps the control reply that must not be
// sent before the change is durable, and releases it once collect() reports that ticket done.
// The syncer publishes the highest ticket made durable (or whose fsync failed) in atomics and
// notifies done_fd(), a wakeup the hub polls. Every ticket requested before an fsync starts is
// covered by that one fsync, so requests that queue up while a sync runs cost one more fsync in
// all; a ticket is reported durable only after an fsync that started after it was requested.
// stop() (and the destructor) syncs what is still requested, then joins.
// Created, used and destroyed by the hub thread; the worker thread touches only the atomics, the
// two wakeups and the sync function (state_db::sync_wal()).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "broker/state_db.hpp"
#include "common/actor.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

class wal_syncer {
 public:
  using sync_function = std::function<common::result<void>()>;

  explicit wal_syncer(state_db& db);
  explicit wal_syncer(sync_function sync);  // tests: a sync that can be held or made to fail
  ~wal_syncer();
  wal_syncer(const wal_syncer&) = delete;
  wal_syncer& operator=(const wal_syncer&) = delete;

  std::uint64_t request();
  // Reads completions without blocking. `durable()` is the highest ticket synced so far;
  // `failed()` the highest ticket whose fsync reported an error.
  void collect();
  std::uint64_t durable() const { return durable_; }
  std::uint64_t failed() const { return failed_; }
  int done_fd() const { return done_.fd(); }
  // Syncs every ticket requested so far (if any is not yet covered), then joins. Idempotent.
  void stop() { thread_.stop(); }
  std::uint64_t fsyncs() const { return fsyncs_.load(); }  // fsyncs run so far (any thread)

 private:
  void run();
  void sync_requested(std::uint64_t& covered);

  sync_function sync_;
  std::uint64_t next_ = 0;     // hub thread
  std::uint64_t durable_ = 0;  // hub thread: the last collect()'s view
  std::uint64_t failed_ = 0;
  std::atomic<std::uint64_t> requested_{0};                                 // hub -> syncer
  std::atomic<std::uint64_t> synced_ok_{0}, synced_failed_{0}, fsyncs_{0};  // syncer -> hub
  common::wakeup done_;
  common::actor thread_{"wal syncer"};  // last: stopped before the rest goes
};

}  // namespace dockmesh::broker
