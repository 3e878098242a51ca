// Configuration: one Boost.Program_options table per binary, filled from (highest precedence
// first) the command line, DOCKMESH_* environment variables, then a config file (`--config FILE`
// or DOCKMESH_CONFIG; `key = value` lines), then defaults. Every binary gets --help,
// --print-config, --config and --log-level from here. Start-up only: throws on bad input.
#pragma once

#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace dockmesh::common {

namespace po = boost::program_options;

struct parsed_config {
  po::variables_map vm;
  bool exit_now = false;  // --help or --print-config was handled; exit with exit_code
  int exit_code = 0;
};

// `options` is the binary's own table; the common options are added to it. `positional` may be
// null. Environment: DOCKMESH_DOCKER_SOCKET maps to --docker-socket, and so on.
parsed_config parse_config(int argc, const char* const* argv, const std::string& binary,
                           po::options_description& options,
                           const po::positional_options_description* positional = nullptr);

// Renders "name = value" lines for every option that has a value (what --print-config prints).
std::string render_config(const po::options_description& options, const po::variables_map& vm);

// Options every bus client (agent, CLI, bridge) has: --broker (repeatable HOST:PORT, the XSUB
// port; XPUB is PORT+1 and ROUTER PORT+2; default 127.0.0.1:7400), --broker-key (Z85 or key
// file), --key (own key file), --max-message-bytes.
void add_bus_client_options(po::options_description& options);
struct bus_client_options;  // see bus_client.hpp
bus_client_options bus_client_options_from(const po::variables_map& vm, std::string client_id);

}  // namespace dockmesh::common
