// stream_gate: the state one open stream shares between the bus thread (which grants credit when
// the reader's stream-credit arrives, and cancels on stream-cancel, lease expiry or stop) and the
// stream's own thread (which takes credit before every piece it sends and stops when cancelled).
// Credit is in bytes (common/stream_args.hpp). acquire() blocks the stream thread while credit is
// used up: it then stops reading dockerd, so neither the agent nor the broker holds more than one
// window for a slow reader. An exec stream's input (stream-input, stream-resize) is queued here
// too, bounded, and announced on an eventfd the stream thread polls beside Docker's socket.
// Thread-safe; nothing but acquire() blocks.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace dockmesh::agent {

struct stream_input_batch {
  std::string bytes;
  std::optional<std::pair<int, int>> resize;  // cols, rows: the newest asked for
  bool eof = false;
};

class stream_gate {
 public:
  static constexpr std::size_t max_input = 64 * 1024;  // queued keystrokes not yet written

  explicit stream_gate(std::int64_t credit);
  ~stream_gate();
  stream_gate(const stream_gate&) = delete;
  stream_gate& operator=(const stream_gate&) = delete;

  void grant(std::int64_t bytes);
  void cancel(std::string reason);  // the first reason given is kept
  // Waits until credit is positive, then takes `cost` (credit may go below 0 by one piece).
  // False, at once, when the stream is cancelled.
  bool acquire(std::int64_t cost);

  // Exec input from the reader; false (dropped) when max_input is already queued.
  bool push_input(std::string_view bytes, bool eof);
  void push_resize(int cols, int rows);
  // Everything queued since the last call (and clears the eventfd).
  stream_input_batch take_input();
  int wake_fd() const { return wake_fd_; }  // readable: input, credit or cancel arrived

  bool cancelled() const { return cancelled_.load(); }
  std::string reason() const;
  std::int64_t credit() const;
  // For the stream's docker_client: transfers in progress abort once this is true.
  const std::atomic<bool>* cancel_flag() const { return &cancelled_; }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::int64_t credit_;
  std::atomic<bool> cancelled_{false};
  std::string reason_;
  stream_input_batch input_;
  int wake_fd_ = -1;
  void wake();
};

}  // namespace dockmesh::agent
