// fuzz_support: what every dockmesh fuzz target shares. A target defines LLVMFuzzerTestOneInput
// and checks properties with FUZZ_CHECK, which aborts with a message (so that libFuzzer, and the
// CTest replay driver, report the input as a crash). `byte_reader` splits one fuzz input into
// several values (a selector byte, a few strings) so one target can drive several functions.
// Owned by the reliability tests; single-threaded, used only by fuzz targets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/msgpack_json.hpp"

#define FUZZ_CHECK(cond, what)                                                                 \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                                 \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

namespace dockmesh::fuzz {

class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  // The bytes up to the next NUL (consumed), or all that is left.
  std::string_view until_nul() {
    auto n = rest_.find('\0');
    std::string_view s = rest_.substr(0, n);
    rest_ = n == std::string_view::npos ? std::string_view() : rest_.substr(n + 1);
    return s;
  }
  // A 2-byte big-endian length, then that many bytes (fewer if the input ends first).
  std::string_view sized() {
    std::size_t n = std::size_t{byte()} << 8;
    n |= byte();
    std::string_view s = rest_.substr(0, n);
    rest_.remove_prefix(s.size());
    return s;
  }
  std::string_view rest() {
    std::string_view s = rest_;
    rest_ = {};
    return s;
  }
  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// Every text that leaves a process (an error message in a reply, a log line, JSON at the edges)
// must be valid UTF-8: a receiver's decoder refuses anything else, and nlohmann::json::dump
// throws on it. Returns false instead of throwing.
inline bool dumps_as_json(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// A refusal that quotes its input must stay valid UTF-8 whenever the input was: strings reach the
// decoders only after the envelope codec has checked them, so that is the case that matters (a
// quote cut in the middle of a multi-byte character breaks it).
inline bool quote_keeps_utf8(std::string_view input, const std::string& message) {
  return !common::valid_utf8(input) || dumps_as_json(message);
}

}  // namespace dockmesh::fuzz
