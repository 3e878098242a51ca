#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace dockmesh::common {
namespace {

std::atomic<log_level> g_level{log_level::info};
std::mutex g_mutex;
std::string g_component = "dockmesh";

const char* level_name(log_level l) {
  switch (l) {
    case log_level::trace:
      return "TRACE";
    case log_level::debug:
      return "DEBUG";
    case log_level::info:
      return "INFO";
    case log_level::warn:
      return "WARN";
    case log_level::error:
      return "ERROR";
    case log_level::off:
      return "OFF";
  }
  return "?";
}

}  // namespace

result<log_level> parse_log_level(std::string_view s) {
  if (s == "trace") return log_level::trace;
  if (s == "debug") return log_level::debug;
  if (s == "info") return log_level::info;
  if (s == "warn" || s == "warning") return log_level::warn;
  if (s == "error") return log_level::error;
  if (s == "off") return log_level::off;
  return make_error(errc::invalid_argument, "unknown log level '" + std::string(s) +
                                                "' (trace, debug, info, warn, error, off)");
}

void set_log_level(log_level level) {
  g_level.store(level);
}
log_level current_log_level() {
  return g_level.load(std::memory_order_relaxed);
}
void set_log_component(std::string_view name) {
  std::lock_guard lock(g_mutex);
  g_component = std::string(name);
}

log_line::~log_line() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string msg = out_.str();
  // One line per entry: embedded newlines from hostile input must not forge log lines.
  for (char& c : msg)
    if (c == '\n' || c == '\r') c = ' ';
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "%s.%03dZ %s %s: %s\n", stamp, static_cast<int>(ms), level_name(level_),
               g_component.c_str(), msg.c_str());
  std::fflush(stderr);
}

}  // namespace dockmesh::common
