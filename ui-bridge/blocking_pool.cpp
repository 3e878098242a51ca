#include "ui-bridge/blocking_pool.hpp"

#include <boost/asio/post.hpp>

#include "common/log.hpp"

namespace dockmesh::bridge {

blocking_pool::blocking_pool(std::size_t threads, std::size_t max_queued)
    : pool_(threads), max_queued_(max_queued) {}

blocking_pool::~blocking_pool() {
  stop();
}

bool blocking_pool::submit(std::function<void()> task) {
  if (stopped_.load()) return false;
  if (queued_.fetch_add(1) >= max_queued_) {
    queued_.fetch_sub(1);
    return false;
  }
  boost::asio::post(pool_, [this, task = std::move(task)] {
    try {
      task();
    } catch (const std::exception& e) {
      DM_LOG(error) << "blocking task threw: " << e.what();
    }
    queued_.fetch_sub(1);
  });
  return true;
}

void blocking_pool::stop() {
  if (stopped_.exchange(true)) return;
  pool_.join();
}

}  // namespace dockmesh::bridge
