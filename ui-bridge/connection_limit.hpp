// connection_limit: how many client connections (HTTP or WebSocket) are open, and a cap, so that a
// flood of idle or slow connections ends in refusals instead of running out of file descriptors.
// A connection holds one connection_slot for its whole life (an HTTP session hands its slot to the
// WebSocket session it upgrades to). Thread-safe (one atomic); header-only.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>

namespace dockmesh::bridge {

class connection_limit {
 public:
  explicit connection_limit(std::size_t max) : max_(max) {}
  std::size_t open() const { return open_.load(); }
  std::size_t max() const { return max_; }

  class slot {
   public:
    slot() = default;
    slot(slot&& o) noexcept : owner_(o.owner_) { o.owner_ = nullptr; }
    slot& operator=(slot&& o) noexcept {
      release();
      owner_ = o.owner_;
      o.owner_ = nullptr;
      return *this;
    }
    ~slot() { release(); }

   private:
    friend class connection_limit;
    explicit slot(connection_limit* owner) : owner_(owner) {}
    void release() {
      if (owner_) owner_->open_.fetch_sub(1);
      owner_ = nullptr;
    }
    connection_limit* owner_ = nullptr;
  };

  // A slot, or nullopt when `max` connections are already open.
  std::optional<slot> acquire() {
    if (open_.fetch_add(1) >= max_) {
      open_.fetch_sub(1);
      return std::nullopt;
    }
    return slot(this);
  }

 private:
  std::size_t max_;
  std::atomic<std::size_t> open_{0};
};

}  // namespace dockmesh::bridge
