// dockmeshctl: the admin CLI. Parses the command line and configuration, runs one command, exits
// with 0 (success), 1 (an error reply) or 2 (usage, configuration error or timeout).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "cli/command_line.hpp"
#include "cli/ctl_commands.hpp"
#include "common/config.hpp"
#include "common/log.hpp"

namespace po = boost::program_options;
using dockmesh::cli::exit_code;

int main(int argc, char** argv) {
  dockmesh::common::set_log_component("dockmeshctl");
  po::options_description options("dockmeshctl options (before or after the command)");
  dockmesh::cli::add_ctl_options(options);
  const int usage = static_cast<int>(exit_code::usage_or_timeout);
  try {
    auto cl =
        dockmesh::cli::parse_command_line(std::vector<std::string>(argv, argv + argc), options);
    if (!cl) {
      std::cerr << "dockmeshctl: " << cl.err().message << "\n";
      return usage;
    }
    std::vector<const char*> global_argv;
    for (const auto& a : cl->global_args) global_argv.push_back(a.c_str());
    // The packaged configuration, when neither --config nor DOCKMESH_CONFIG names one.
    const char* packaged = "/etc/dockmesh/dockmeshctl.conf";
    bool named = std::getenv("DOCKMESH_CONFIG") != nullptr;
    for (const auto& a : cl->global_args)
      named = named || a == "--config" || a.rfind("--config=", 0) == 0;
    if (!named && ::access(packaged, R_OK) == 0)
      global_argv.insert(global_argv.end(), {"--config", packaged});
    auto config = dockmesh::common::parse_config(static_cast<int>(global_argv.size()),
                                                 global_argv.data(), "dockmeshctl", options);
    if (config.exit_now) {
      if (config.vm.count("help")) std::cout << dockmesh::cli::commands_usage();
      return config.exit_code;
    }
    if (cl->command.empty()) {
      std::cerr << "dockmeshctl: no command given\n" << dockmesh::cli::commands_usage();
      return usage;
    }
    return dockmesh::cli::run_command(*cl, config.vm, std::cout, std::cerr);
  } catch (const zmq::error_t& e) {
    std::cerr << "dockmeshctl: ZeroMQ error: " << e.what() << "\n";
    return usage;
  } catch (const std::exception& e) {
    std::cerr << "dockmeshctl: " << e.what() << "\n";
    return usage;
  }
}
