// blocking_pool: a few threads for the work a Beast handler must never do itself: Argon2id
// password hashing (login, user changes) and fsync'ed RocksDB writes (users, API tokens). Bounded:
// submit() refuses when `max_queued` tasks are already waiting, so a login flood gets 503s instead
// of an ever-growing queue. Tasks report back by posting to their session's strand themselves.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include <boost/asio/thread_pool.hpp>

namespace dockmesh::bridge {

class blocking_pool {
 public:
  blocking_pool(std::size_t threads, std::size_t max_queued);
  ~blocking_pool();
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  // false (and `task` is dropped) when the pool is full or stopped.
  bool submit(std::function<void()> task);
  void stop();  // waits for running tasks; idempotent
  std::size_t queued() const { return queued_.load(); }

 private:
  boost::asio::thread_pool pool_;
  std::size_t max_queued_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> stopped_{false};
};

}  // namespace dockmesh::bridge
