#include "agent/log_demux.hpp"

#include <algorithm>

namespace dockmesh::agent {

void log_demux::trim(std::string& s, std::size_t keep) {
  if (s.size() <= keep) return;
  std::size_t cut = s.size() - keep;
  dropped_ += cut;
  s.erase(0, cut);
}

std::string& log_demux::target() {
  return stream_ == 2 ? err_ : (stream_ == 3 ? daemon_error_ : out_);
}

void log_demux::append(std::string_view payload) {
  std::string& dst = target();
  dst.append(payload);
  // Trim lazily so that many small frames cost amortised O(1) each.
  if (dst.size() > 2 * max_bytes_) {
    trim(dst, max_bytes_);
    trimmed_[stream_ == 2 ? 1 : (stream_ == 3 ? 2 : 0)] = true;
  }
}

void log_demux::finish() {
  std::string* streams[] = {&out_, &err_, &daemon_error_};
  for (int i = 0; i < 3; ++i) {
    std::string& s = *streams[i];
    if (s.size() <= max_bytes_ && !trimmed_[i]) continue;
    trim(s, max_bytes_);
    // Start at a line boundary if one is close, so the first line is not half a line.
    auto nl = s.find('\n');
    if (nl != std::string::npos && nl < 4096) {
      dropped_ += nl + 1;
      s.erase(0, nl + 1);
    }
  }
}

common::result<void> log_demux::feed(std::string_view bytes) {
  if (broken_) return common::make_error(common::errc::malformed, "log stream already broken");
  while (!bytes.empty()) {
    if (remaining_ > 0) {
      std::size_t n = std::min<std::size_t>(remaining_, bytes.size());
      append(bytes.substr(0, n));
      remaining_ -= static_cast<std::uint32_t>(n);
      bytes.remove_prefix(n);
      continue;
    }
    std::size_t n = std::min(sizeof header_ - header_len_, bytes.size());
    std::copy_n(bytes.data(), n, header_ + header_len_);
    header_len_ += n;
    bytes.remove_prefix(n);
    if (header_len_ < sizeof header_) break;
    header_len_ = 0;
    if (header_[0] > 3 || header_[1] || header_[2] || header_[3]) {
      broken_ = true;
      return common::make_error(common::errc::malformed,
                                "log stream frame header is not Docker's (stream byte " +
                                    std::to_string(header_[0]) + ")");
    }
    stream_ = header_[0];
    remaining_ = (std::uint32_t{header_[4]} << 24) | (std::uint32_t{header_[5]} << 16) |
                 (std::uint32_t{header_[6]} << 8) | std::uint32_t{header_[7]};
  }
  return {};
}

}  // namespace dockmesh::agent
