#include "common/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <chrono>

namespace dockmesh::common {

systemd_notifier::~systemd_notifier() {
  stopping();
}

void systemd_notifier::ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
  uint64_t interval_us = 0;
  // sd_watchdog_enabled > 0: the unit has WatchdogSec= and this process is the one watched.
  if (sd_watchdog_enabled(0, &interval_us) > 0 && !watchdog_.joinable())
    watchdog_ =
        std::thread([this, interval_us] { feed_watchdog(static_cast<long long>(interval_us)); });
}

void systemd_notifier::stopping() {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  sd_notify(0, "STOPPING=1");
  wake_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void systemd_notifier::feed_watchdog(long long interval_us) {
  // Half the interval, as sd_watchdog_enabled(3) advises: one late wake-up never trips it.
  const auto period = std::chrono::microseconds(interval_us / 2);
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period, [this] { return stop_; })) sd_notify(0, "WATCHDOG=1");
}

}  // namespace dockmesh::common
