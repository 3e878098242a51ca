#include "agent/stream_gate.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>

namespace dockmesh::agent {

stream_gate::stream_gate(std::int64_t credit) : credit_(credit) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
}

stream_gate::~stream_gate() {
  ::close(wake_fd_);
}

void stream_gate::wake() {
  std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

bool stream_gate::push_input(std::string_view bytes, bool eof) {
  {
    std::lock_guard lock(mutex_);
    if (input_.bytes.size() + bytes.size() > max_input) return false;
    input_.bytes.append(bytes);
    input_.eof = input_.eof || eof;
  }
  wake();
  return true;
}

void stream_gate::push_resize(int cols, int rows) {
  {
    std::lock_guard lock(mutex_);
    input_.resize = std::make_pair(cols, rows);
  }
  wake();
}

stream_input_batch stream_gate::take_input() {
  std::uint64_t v;
  (void)!::read(wake_fd_, &v, sizeof v);
  std::lock_guard lock(mutex_);
  return std::exchange(input_, {});
}

void stream_gate::grant(std::int64_t bytes) {
  {
    std::lock_guard lock(mutex_);
    credit_ += bytes;
  }
  changed_.notify_all();
  wake();
}

void stream_gate::cancel(std::string reason) {
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
    reason_ = std::move(reason);
    cancelled_ = true;
  }
  changed_.notify_all();
  wake();
}

bool stream_gate::acquire(std::int64_t cost) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return cancelled_.load() || credit_ > 0; });
  if (cancelled_) return false;
  credit_ -= cost;
  return true;
}

std::string stream_gate::reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

std::int64_t stream_gate::credit() const {
  std::lock_guard lock(mutex_);
  return credit_;
}

}  // namespace dockmesh::agent
