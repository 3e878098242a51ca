// command_line: splits dockmeshctl's argv into the global options (handed to common::parse_config)
// and one command with its own options and words, checked against a small table of commands.
// Global options may appear before or after the command. Pure functions, no I/O, any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "common/result.hpp"

namespace dockmesh::cli {

// Process exit codes (fixed: scripts rely on them).
enum class exit_code : int { ok = 0, error_reply = 1, usage_or_timeout = 2 };

struct command_line {
  std::vector<std::string> global_args;  // argv[0] and the global options, for parse_config
  std::string command;                   // empty when none was given (e.g. only --help)
  std::vector<std::string> words;        // the command's positional arguments
  std::map<std::string, std::vector<std::string>> options;  // command options; flags hold ""

  bool has(const std::string& name) const { return options.count(name) > 0; }
  // The last value given for `name`, or `fallback`.
  std::string value(const std::string& name, const std::string& fallback = {}) const;
};

// One line per command, for --help and usage errors.
std::string commands_usage();

// `args` is the whole argv (args[0] is the program name). `globals` is the global option table;
// --config, --log-level, --help and --print-config (added by parse_config) are known too.
common::result<command_line> parse_command_line(
    const std::vector<std::string>& args,
    const boost::program_options::options_description& globals);

}  // namespace dockmesh::cli
