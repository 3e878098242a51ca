// systemd_notifier: tells systemd (Type=notify units) that a daemon is ready or stopping, and
// keeps its watchdog fed. Owned by a daemon's main(); ready() starts one thread that sends
// WATCHDOG=1 at half the unit's WatchdogSec= (when the unit sets one), stopping() ends it.
// Outside systemd (no $NOTIFY_SOCKET) every call does nothing. Never blocks the caller beyond
// one datagram send.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace dockmesh::common {

class systemd_notifier {
 public:
  systemd_notifier() = default;
  systemd_notifier(const systemd_notifier&) = delete;
  systemd_notifier& operator=(const systemd_notifier&) = delete;
  ~systemd_notifier();

  // READY=1 plus a STATUS= line; starts the watchdog thread if the unit asks for one.
  void ready(const std::string& status);
  // STOPPING=1; stops the watchdog thread. Safe to call twice.
  void stopping();

 private:
  void feed_watchdog(long long interval_us);

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread watchdog_;
};

}  // namespace dockmesh::common
