// wal_syncer: an actor that fsyncs the state_db's write-ahead log on its own thread, so that the
// hub loop never waits on the disk. The hub asks with request() (a ticket), keeps the control
// reply that must not be sent before the change is durable, and releases it once collect()
// reports that ticket done. Requests that queue up while a sync runs are served by one fsync.
// Created, used and destroyed by the hub thread; the worker thread touches only its own PAIR
// socket and state_db::sync_wal().
#pragma once

#include <cstdint>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "broker/state_db.hpp"

namespace dockmesh::broker {

class wal_syncer {
 public:
  wal_syncer(zmq::context_t& ctx, state_db& db);
  ~wal_syncer();  // sends $TERM and joins
  wal_syncer(const wal_syncer&) = delete;
  wal_syncer& operator=(const wal_syncer&) = delete;

  std::uint64_t request();
  // Reads completions without blocking. `durable()` is the highest ticket synced so far;
  // `failed()` the highest ticket whose fsync reported an error.
  void collect();
  std::uint64_t durable() const { return durable_; }
  std::uint64_t failed() const { return failed_; }
  zmq::socket_ref socket() { return pipe_; }

 private:
  void run(zmq::context_t& ctx, state_db& db, std::string endpoint);

  zmq::socket_t pipe_;
  std::thread thread_;
  std::uint64_t next_ = 0;
  std::uint64_t durable_ = 0;
  std::uint64_t failed_ = 0;
};

}  // namespace dockmesh::broker
