// log_demux: splits Docker's multiplexed log stream (containers without a TTY) into stdout and
// stderr. Each frame is an 8-byte header [stream, 0, 0, 0, size as 4 bytes big-endian] followed by
// `size` bytes; stream 0 (stdin) counts as stdout, 1 stdout, 2 stderr, 3 an error written by the
// daemon itself. Frames may be split anywhere between feed() calls. Output is capped per stream:
// like `tail`, the newest bytes are kept and older ones counted as dropped. A plain value used by
// one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.hpp"

namespace dockmesh::agent {

class log_demux {
 public:
  explicit log_demux(std::size_t max_bytes_per_stream = 1024 * 1024)
      : max_bytes_(max_bytes_per_stream) {}

  // errc::malformed on a header that is not Docker's (after which feed() keeps failing).
  common::result<void> feed(std::string_view bytes);

  // Trims each stream to its cap (cutting at a line start when one is near). Call once at the end.
  void finish();

  // What arrived since the last take (a follow sends it on and keeps nothing).
  std::string take_out() { return std::exchange(out_, {}); }
  std::string take_err() { return std::exchange(err_, {}); }
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }
  const std::string& daemon_error() const { return daemon_error_; }  // stream 3
  std::size_t dropped_bytes() const { return dropped_; }             // older bytes over the cap
  bool truncated() const { return dropped_ > 0; }
  // True when the data stopped inside a header or a payload (connection cut mid-frame).
  bool incomplete() const { return header_len_ > 0 || remaining_ > 0; }

 private:
  void append(std::string_view payload);
  void trim(std::string& s, std::size_t keep);
  std::string& target();

  std::size_t max_bytes_;
  std::string out_, err_, daemon_error_;
  std::size_t dropped_ = 0;
  unsigned char header_[8] = {};
  std::size_t header_len_ = 0;
  std::uint32_t remaining_ = 0;  // payload bytes still due for the current frame
  unsigned char stream_ = 1;
  bool broken_ = false;
  bool trimmed_[3] = {false, false, false};  // out, err, daemon error
};

}  // namespace dockmesh::agent
