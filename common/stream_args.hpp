// stream_args: the typed bodies of the stream messages (docs/streams.md): the two openers
// (follow-logs, follow-stats, exec-start), what a reader sends back (stream-credit,
// stream-cancel, stream-input, stream-resize), and the
// window bounds every party agrees on. Same shape as action_args.hpp: `fields` mirror
// schemas/<name>.json, parse_*() names the offending field, parse(to_json(x)) == x.
// Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/action_args.hpp"
#include "common/result.hpp"

namespace dockmesh::common {

// Credit is counted in bytes of stream-data payload. A reader opens with `credit` (its window)
// and grants again what it has consumed; an agent sends while its credit is positive, so at most
// one window plus one piece is ever in flight between them, whatever the reader's speed.
inline constexpr std::int64_t default_stream_credit = 256 * 1024;
inline constexpr std::int64_t min_stream_credit = 4 * 1024;
inline constexpr std::int64_t max_stream_credit = 8 * 1024 * 1024;
// The largest stream-data payload, and the least a piece is charged (so that tiny pieces cannot
// pile up in numbers inside one window).
inline constexpr std::size_t max_stream_piece = 16 * 1024;
inline constexpr std::size_t min_stream_charge = 512;

struct follow_logs_args {
  static constexpr field_list<7> fields{"id",     "tail",   "since", "timestamps",
                                        "stdout", "stderr", "credit"};
  container_logs_args logs;  // tail defaults to 100 here, not "all"
  std::int64_t credit = default_stream_credit;
  bool operator==(const follow_logs_args&) const = default;
};

struct follow_stats_args {
  static constexpr field_list<2> fields{"id", "credit"};
  std::string id;
  std::int64_t credit = default_stream_credit;
  bool operator==(const follow_stats_args&) const = default;
};

struct exec_start_args {
  static constexpr field_list<6> fields{"id", "cmd", "tty", "cols", "rows", "credit"};
  std::string id;
  std::vector<std::string> cmd;  // 1..64 words
  bool tty = true;
  std::int64_t cols = 0;  // the reader's terminal; 0 = leave Docker's default
  std::int64_t rows = 0;
  std::int64_t credit = default_stream_credit;
  bool operator==(const exec_start_args&) const = default;
};

struct stream_input_args {
  static constexpr field_list<3> fields{"stream", "data", "eof"};
  std::string stream;
  std::string data;  // at most max_stream_piece bytes
  bool eof = false;  // no more input: the process reads end of file
  bool operator==(const stream_input_args&) const = default;
};

struct stream_resize_args {
  static constexpr field_list<3> fields{"stream", "cols", "rows"};
  std::string stream;
  std::int64_t cols = 80;
  std::int64_t rows = 24;
  bool operator==(const stream_resize_args&) const = default;
};

struct stream_credit_args {
  static constexpr field_list<2> fields{"stream", "credit"};
  std::string stream;
  std::int64_t credit = 0;  // 0: only renews the lease
  bool operator==(const stream_credit_args&) const = default;
};

struct stream_cancel_args {
  static constexpr field_list<1> fields{"stream"};
  std::string stream;
  bool operator==(const stream_cancel_args&) const = default;
};

result<follow_logs_args> parse_follow_logs_args(const nlohmann::json& body);
result<follow_stats_args> parse_follow_stats_args(const nlohmann::json& body);
result<exec_start_args> parse_exec_start_args(const nlohmann::json& body);
result<stream_input_args> parse_stream_input_args(const nlohmann::json& body);
result<stream_resize_args> parse_stream_resize_args(const nlohmann::json& body);
result<stream_credit_args> parse_stream_credit_args(const nlohmann::json& body);
result<stream_cancel_args> parse_stream_cancel_args(const nlohmann::json& body);

nlohmann::json to_json(const follow_logs_args& a);
nlohmann::json to_json(const follow_stats_args& a);
nlohmann::json to_json(const exec_start_args& a);
nlohmann::json to_json(const stream_input_args& a);
nlohmann::json to_json(const stream_resize_args& a);
nlohmann::json to_json(const stream_credit_args& a);
nlohmann::json to_json(const stream_cancel_args& a);

}  // namespace dockmesh::common
