// Logging with levels, to stderr, one line per call, safe from any thread (a mutex per line).
// Usage: DM_LOG(info) << "agent registered as " << fqdn;
// The level check happens before the message is formatted, so disabled levels cost one compare.
#pragma once

#include <sstream>
#include <string_view>

#include "common/result.hpp"

namespace dockmesh::common {

enum class log_level { trace = 0, debug, info, warn, error, off };

result<log_level> parse_log_level(std::string_view s);
void set_log_level(log_level level);
log_level current_log_level();
void set_log_component(std::string_view name);  // e.g. "broker"; printed on each line

class log_line {
 public:
  explicit log_line(log_level level) : level_(level) {}
  ~log_line();
  log_line(const log_line&) = delete;
  log_line& operator=(const log_line&) = delete;
  template <class T>
  log_line& operator<<(const T& v) {
    out_ << v;
    return *this;
  }

 private:
  log_level level_;
  std::ostringstream out_;
};

}  // namespace dockmesh::common

#define DM_LOG(lvl)                                                                   \
  if (::dockmesh::common::log_level::lvl < ::dockmesh::common::current_log_level()) { \
  } else                                                                              \
    ::dockmesh::common::log_line(::dockmesh::common::log_level::lvl)
