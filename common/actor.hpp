// actor: the one way a dockmesh thread that owns sockets is started, woken and stopped (the
// broker's hub and WAL syncer, the agent's bus loop, the bridge's bus actor).
//   wakeup: an eventfd. notify() from any thread (several may), drain() on the owning thread,
//           fd() goes into the loop's common::poll_set (add_fd). An eventfd rather than an inproc
//           PAIR: a ZeroMQ socket may not be shared between threads, an fd write may.
//   actor:  start(body) runs `body` on a new thread and returns once the body called ready()
//           (its sockets exist), rethrowing what the body threw before that. stop() raises the
//           stop flag, notifies the wakeup and joins; it is synchronous and idempotent, and the
//           destructor calls it. A body polls wake_fd() next to its sockets and returns once
//           stop_requested() is true after a poll. An exception thrown after ready() is logged
//           (with the actor's name) and ends the thread.
// start() and stop() are called by the owner's thread; notify() and stop_requested() by any.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>

namespace dockmesh::common {

class wakeup {
 public:
  wakeup();  // throws if the eventfd cannot be made
  ~wakeup();
  wakeup(const wakeup&) = delete;
  wakeup& operator=(const wakeup&) = delete;

  void notify() noexcept;  // any thread; never blocks
  void drain() noexcept;   // the polling thread: clears the pending notifications
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

class actor {
 public:
  explicit actor(std::string name) : name_(std::move(name)) {}
  ~actor() { stop(); }
  actor(const actor&) = delete;
  actor& operator=(const actor&) = delete;

  // Runs `body` on the actor's thread; returns once it called ready() or returned. Rethrows an
  // exception the body threw before ready() (the thread is joined by then).
  void start(std::function<void()> body);
  // Called by the body on its own thread once its sockets exist.
  void ready();
  // Raises the stop flag, wakes the body and joins. Idempotent; a no-op if never started.
  void stop();

  bool stop_requested() const { return stop_.load(std::memory_order_acquire); }
  bool running() const { return thread_.joinable(); }
  void notify() noexcept { wake_.notify(); }
  wakeup& wake() { return wake_; }
  int wake_fd() const { return wake_.fd(); }
  const std::string& name() const { return name_; }

 private:
  void run(const std::function<void()>& body);

  std::string name_;
  wakeup wake_;
  std::atomic<bool> stop_{false};
  std::optional<std::promise<void>> started_;  // set during start() only
  bool ready_called_ = false;                  // actor thread only
  std::thread thread_;
};

}  // namespace dockmesh::common
