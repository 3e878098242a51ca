#include "common/actor.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "common/log.hpp"

namespace dockmesh::common {

wakeup::wakeup() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

wakeup::~wakeup() {
  ::close(fd_);
}

void wakeup::notify() noexcept {
  // The counter only saturates after 2^64 - 2 notifications without a drain: EAGAIN then still
  // leaves the fd readable, which is all a notification has to do.
  std::uint64_t one = 1;
  (void)!::write(fd_, &one, sizeof one);
}

void wakeup::drain() noexcept {
  std::uint64_t v;
  (void)!::read(fd_, &v, sizeof v);  // one read resets the counter; EAGAIN when nothing was sent
}

void actor::start(std::function<void()> body) {
  if (thread_.joinable()) throw std::logic_error("actor " + name_ + " started twice");
  // A notification left from before (a command posted before start) only costs one empty turn.
  stop_.store(false, std::memory_order_release);
  started_.emplace();
  auto started = started_->get_future();
  ready_called_ = false;
  thread_ = std::thread([this, body = std::move(body)] { run(body); });
  try {
    started.get();
  } catch (...) {
    thread_.join();
    started_.reset();
    throw;
  }
  started_.reset();
}

void actor::ready() {
  if (ready_called_) return;
  ready_called_ = true;
  started_->set_value();
}

void actor::run(const std::function<void()>& body) {
  try {
    body();
  } catch (...) {
    if (!ready_called_) {
      ready_called_ = true;
      started_->set_exception(std::current_exception());
      return;
    }
    try {
      throw;
    } catch (const std::exception& e) {
      DM_LOG(error) << name_ << " thread stopped: " << e.what();
    } catch (...) {
      DM_LOG(error) << name_ << " thread stopped by an unknown exception";
    }
  }
  ready();  // a body that returned early (told to stop during its set-up) releases start()
}

void actor::stop() {
  stop_.store(true, std::memory_order_release);
  wake_.notify();
  // From the body itself (a loop giving up) the flag is all: the owner's stop() joins.
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace dockmesh::common
