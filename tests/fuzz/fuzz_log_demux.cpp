// Fuzz target: agent::log_demux, the parser of Docker's multiplexed log stream (8-byte frame
// headers, then payload), fed from the daemon's socket in arbitrary pieces. Input: a cap byte, a
// split-pattern byte, then the stream. Properties: no crash; the result does not depend on how
// the bytes were split across feed() calls; every stream stays within its cap after finish(); and
// bytes kept + bytes dropped account for every payload byte.
#include <cstdint>
#include <string>

#include "agent/log_demux.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using dockmesh::agent::log_demux;

namespace {

struct outcome {
  bool ok = true;
  std::string out, err, daemon;
  std::size_t dropped = 0;
  bool incomplete = false;
};

outcome run(std::string_view stream, std::size_t cap, std::uint8_t pattern) {
  log_demux d(cap);
  outcome o;
  std::size_t step = pattern == 0 ? stream.size() : pattern;
  while (!stream.empty() && o.ok) {
    std::size_t n = std::min(step, stream.size());
    o.ok = d.feed(stream.substr(0, n)).ok();
    stream.remove_prefix(n);
    if (pattern) step = (step * 7 + 3) % 23 + 1;  // uneven pieces, some of them 1 byte
  }
  d.finish();
  o.out = d.out(), o.err = d.err(), o.daemon = d.daemon_error();
  o.dropped = d.dropped_bytes();
  o.incomplete = d.incomplete();
  if (o.ok) {
    FUZZ_CHECK(o.out.size() <= cap && o.err.size() <= cap && o.daemon.size() <= cap,
               "a stream exceeds its cap after finish()");
  }
  return o;
}

// Payload bytes in `stream` up to the first bad header (what a correct demuxer must account for).
std::size_t payload_bytes(std::string_view s) {
  std::size_t total = 0;
  while (s.size() >= 8) {
    auto h = reinterpret_cast<const unsigned char*>(s.data());
    if (h[0] > 3 || h[1] || h[2] || h[3]) break;
    std::size_t len =
        (std::size_t{h[4]} << 24) | (std::size_t{h[5]} << 16) | (std::size_t{h[6]} << 8) | h[7];
    s.remove_prefix(8);
    std::size_t n = std::min(len, s.size());
    total += n;
    s.remove_prefix(n);
  }
  return total;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dockmesh::fuzz::byte_reader in(data, size);
  std::size_t cap = 1 + in.byte() % 64;
  std::uint8_t pattern = in.byte();
  std::string_view stream = in.rest();
  outcome whole = run(stream, cap, 0);
  outcome split = run(stream, cap, pattern);
  FUZZ_CHECK(whole.ok == split.ok, "splitting the stream changed whether it parses");
  if (!whole.ok) return 0;
  FUZZ_CHECK(whole.out == split.out && whole.err == split.err && whole.daemon == split.daemon,
             "splitting the stream changed the output");
  FUZZ_CHECK(whole.incomplete == split.incomplete, "splitting changed incomplete()");
  std::size_t kept = whole.out.size() + whole.err.size() + whole.daemon.size();
  FUZZ_CHECK(kept + whole.dropped == payload_bytes(stream), "payload bytes lost or invented");
  return 0;
}
