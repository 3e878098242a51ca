// ctl_commands: what each dockmeshctl command does once the command line is parsed. Each run_*
// function owns its ZeroMQ context and sockets for the length of the call (main thread only),
// prints JSON to `out` and one-line messages to `err`, and returns an exit_code. The whole command
// shares one deadline (--timeout), except `watch`, which runs until SIGINT/SIGTERM or --count.
// Configuration errors (missing key file...) throw std::runtime_error for main to report.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "cli/command_line.hpp"
#include "common/bus_client.hpp"
#include "common/control_client.hpp"

namespace dockmesh::cli {

// Adds dockmeshctl's own global options (--timeout, --user) and the bus client options.
void add_ctl_options(boost::program_options::options_description& options);

struct ctl_context {
  const command_line& cl;
  const boost::program_options::variables_map& vm;
  std::ostream& out;
  std::ostream& err;
  std::chrono::steady_clock::time_point deadline;

  std::chrono::milliseconds timeout() const;                   // --timeout
  std::chrono::milliseconds left() const;                      // until the deadline, at least 1 ms
  std::string user() const;                                    // --user
  common::bus_client_options bus_options() const;              // throws on bad keys or brokers
  int fail(exit_code code, const std::string& message) const;  // prints, returns code
};

// Runs cl.command. The dispatcher; the commands live in the files named below.
int run_command(const command_line& cl, const boost::program_options::variables_map& vm,
                std::ostream& out, std::ostream& err);

int run_keygen(const ctl_context& ctx);             // ctl_commands.cpp
int run_directory_command(const ctl_context& ctx);  // ctl_commands.cpp: hosts, containers, keys
int run_send(const ctl_context& ctx);               // send_command.cpp
int run_watch(const ctl_context& ctx);              // watch_command.cpp
// --count N of watch and stats: N > 0, 0 when absent, -1 when not a positive number.
long count_option(const ctl_context& ctx);        // watch_command.cpp
int run_status(const ctl_context& ctx);           // status_command.cpp: every broker's view
int run_keys_list(const ctl_context& ctx);        // status_command.cpp: keys, where active
int run_service_command(const ctl_context& ctx);  // service_command.cpp: projects, services
int run_pool_command(const ctl_context& ctx);  // pool_command.cpp: hosts pool|cordon|drain, quota
int run_logs(const ctl_context& ctx);          // follow_command.cpp: logs [-f]
int run_stats(const ctl_context& ctx);         // follow_command.cpp: stats (a stream)
int run_exec(const ctl_context& ctx);          // follow_command.cpp: exec (a stream)

struct send_plan;
// route::lookup: the directory's `container` call names the host of an id or name
// (send_command.cpp). Returns an exit code; ok once `plan` has its host.
int resolve_by_directory(const ctl_context& ctx, common::control_client& control, send_plan& plan);

// One control call; on a 2xx reply prints its body. Shared by the directory commands.
int print_control_call(const ctl_context& ctx, common::control_client& control,
                       const std::string& action, nlohmann::json body);

}  // namespace dockmesh::cli
