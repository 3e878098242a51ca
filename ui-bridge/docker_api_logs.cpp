// docker_api_translate's log half: container-logs output (asked for with Docker's timestamps)
// parsed into lines, merged in time order and framed as Docker's multiplexed stream.
#include <algorithm>
#include <ctime>

#include "ui-bridge/docker_api_translate.hpp"
#include "ui-bridge/json_fields.hpp"

namespace dockmesh::bridge {

using nlohmann::json;

namespace {

// "2026-11-22T16:45:52.437209568Z" -> seconds and nanoseconds; false if it is not one.
bool parse_stamp(std::string_view s, std::int64_t& seconds, std::int64_t& nanos) {
  std::tm tm{};
  if (s.size() < 20 || s[4] != '-' || s[10] != 'T') return false;
  std::string head(s.substr(0, 19));
  if (!strptime(head.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return false;
  seconds = timegm(&tm);
  nanos = 0;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    std::int64_t scale = 100000000;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10)
      nanos += (s[i] - '0') * scale;
  }
  return i < s.size() && s[i] == 'Z';
}

}  // namespace

std::vector<log_line> parse_log_lines(std::string_view text, int stream) {
  std::vector<log_line> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl == std::string_view::npos ? text.size() : nl + 1);
    text.remove_prefix(line.size());
    log_line l;
    l.stream = stream;
    auto space = line.find(' ');
    if (space != std::string_view::npos && parse_stamp(line.substr(0, space), l.seconds, l.nanos)) {
      l.stamp = std::string(line.substr(0, space + 1));
      line.remove_prefix(space + 1);
    }
    l.text = std::string(line);
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<log_line> merge_logs(const json& body) {
  auto out = parse_log_lines(text_of(body, "stdout"), 1);
  auto err = parse_log_lines(text_of(body, "stderr"), 2);
  out.insert(out.end(), err.begin(), err.end());
  std::stable_sort(out.begin(), out.end());
  return out;
}

std::string log_frame(int stream, std::string_view payload) {
  auto n = static_cast<std::uint32_t>(payload.size());
  std::string out = {static_cast<char>(stream),
                     0,
                     0,
                     0,
                     static_cast<char>(n >> 24),
                     static_cast<char>((n >> 16) & 0xff),
                     static_cast<char>((n >> 8) & 0xff),
                     static_cast<char>(n & 0xff)};
  out.append(payload);
  return out;
}

}  // namespace dockmesh::bridge
