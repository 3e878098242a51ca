// poll_set: one zmq_poll over sockets that the caller names: add() gives a slot, ready(slot)
// says whether that socket has input. A loop reads `ready(zap)`, never `items[1]`, so adding or
// dropping a socket cannot shift another's meaning. A null socket (an optional peer link not
// configured) gives a slot that is never ready. Built and used by one thread (the loop's);
// poll() blocks at most `timeout`.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include <zmq.hpp>

namespace dockmesh::common {

class poll_set {
 public:
  class slot {
   public:
    slot() = default;  // never ready

   private:
    friend class poll_set;
    explicit slot(std::size_t index) : index_(index) {}
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t index_ = none;
  };

  slot add(zmq::socket_ref s) {
    if (!s) return {};
    items_.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
    return slot(items_.size() - 1);
  }
  // A file descriptor (an eventfd another thread writes to wake the loop).
  slot add_fd(int fd) {
    if (fd < 0) return {};
    items_.push_back({nullptr, fd, ZMQ_POLLIN, 0});
    return slot(items_.size() - 1);
  }

  // Waits until a slot is ready or `timeout` passed (negative: counts as zero).
  void poll(std::chrono::milliseconds timeout) {
    for (auto& i : items_) i.revents = 0;
    zmq::poll(items_, std::max(timeout, std::chrono::milliseconds(0)));
  }

  bool ready(slot s) const {
    return s.index_ != slot::none && (items_[s.index_].revents & ZMQ_POLLIN);
  }

 private:
  std::vector<zmq::pollitem_t> items_;
};

}  // namespace dockmesh::common
