#include "common/config.hpp"

#include <cstdint>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "common/bus_client.hpp"
#include "common/curve_keys.hpp"
#include "common/log.hpp"

namespace dockmesh::common {
namespace {

// DOCKMESH_DOCKER_SOCKET -> docker-socket, only for options the binary knows.
std::string env_to_option(const po::options_description& options, const std::string& var) {
  static const std::string prefix = "DOCKMESH_";
  if (var.rfind(prefix, 0) != 0) return {};
  std::string name = var.substr(prefix.size());
  for (char& c : name) c = c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return options.find_nothrow(name, false) ? name : std::string();
}

bool is_secret(const std::string& name) {
  return name.find("password") != std::string::npos || name.find("token") != std::string::npos ||
         name.find("secret") != std::string::npos;
}

std::string any_to_string(const boost::any& v) {
  if (auto p = boost::any_cast<std::string>(&v)) return *p;
  if (auto p = boost::any_cast<int>(&v)) return std::to_string(*p);
  if (auto p = boost::any_cast<long>(&v)) return std::to_string(*p);
  if (auto p = boost::any_cast<long long>(&v)) return std::to_string(*p);
  if (auto p = boost::any_cast<unsigned>(&v)) return std::to_string(*p);
  if (auto p = boost::any_cast<unsigned long>(&v)) return std::to_string(*p);
  if (auto p = boost::any_cast<double>(&v)) return std::to_string(*p);
  if (auto p = boost::any_cast<bool>(&v)) return *p ? "true" : "false";
  if (auto p = boost::any_cast<std::vector<std::string>>(&v)) {
    std::string s;
    for (const auto& x : *p) s += (s.empty() ? "" : ", ") + x;
    return s;
  }
  return "<set>";
}

}  // namespace

std::string render_config(const po::options_description& options, const po::variables_map& vm) {
  std::ostringstream out;
  for (const auto& opt : options.options()) {
    const std::string& name = opt->long_name();
    if (name == "help" || name == "print-config" || !vm.count(name)) continue;
    const auto& v = vm[name];
    if (v.empty()) continue;
    out << name << " = " << (is_secret(name) ? "<hidden>" : any_to_string(v.value()))
        << (v.defaulted() ? "  # default" : "") << "\n";
  }
  return out.str();
}

parsed_config parse_config(int argc, const char* const* argv, const std::string& binary,
                           po::options_description& options,
                           const po::positional_options_description* positional) {
  options.add_options()("help,h", "print this help and exit")(
      "print-config", "print the effective configuration and exit")(
      "config", po::value<std::string>(),
      "config file of 'key = value' lines (env DOCKMESH_CONFIG)")(
      "log-level", po::value<std::string>()->default_value("info"),
      "trace, debug, info, warn, error or off");
  parsed_config pc;
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(options);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), pc.vm);
    po::store(po::parse_environment(
                  options, [&](const std::string& var) { return env_to_option(options, var); }),
              pc.vm);
    if (pc.vm.count("config")) {
      std::string path = pc.vm["config"].as<std::string>();
      po::store(po::parse_config_file(path.c_str(), options, false), pc.vm);
    }
    po::notify(pc.vm);
  } catch (const po::error& e) {
    throw std::runtime_error(std::string(e.what()) + " (see " + binary + " --help)");
  }
  if (pc.vm.count("help")) {
    std::cout << "Usage: " << binary << " [options]\n\n" << options << "\n";
    pc.exit_now = true;
    return pc;
  }
  auto level = parse_log_level(pc.vm["log-level"].as<std::string>());
  if (!level) throw std::runtime_error(level.err().message);
  set_log_level(*level);
  if (pc.vm.count("print-config")) {
    std::cout << render_config(options, pc.vm);
    pc.exit_now = true;
  }
  return pc;
}

void add_bus_client_options(po::options_description& options) {
  options.add_options()(
      "broker", po::value<std::vector<std::string>>()->composing(),
      "broker HOST[:PORT] (repeatable; PORT is the XSUB port, XPUB is PORT+1, ROUTER PORT+2; "
      "default 127.0.0.1:7400)")("broker-key", po::value<std::string>(),
                                 "the brokers' public key: z85:KEY, file:PATH, or bare (an "
                                 "existing file wins, else a Z85 key)")(
      "key", po::value<std::string>(), "this client's CURVE key file (dockmeshctl keygen)")(
      "max-message-bytes", po::value<std::size_t>()->default_value(4 * 1024 * 1024),
      "largest bus message accepted");
}

bus_client_options bus_client_options_from(const po::variables_map& vm, std::string client_id) {
  bus_client_options o;
  std::vector<std::string> brokers{"127.0.0.1:7400"};
  if (vm.count("broker")) brokers = vm["broker"].as<std::vector<std::string>>();
  for (const auto& b : brokers) {
    auto a = parse_broker_address(b);
    if (!a) throw std::runtime_error(a.err().message);
    o.brokers.push_back(*a);
  }
  if (!vm.count("broker-key"))
    throw std::runtime_error("--broker-key is required (CURVE is always on)");
  if (!vm.count("key"))
    throw std::runtime_error("--key is required (this client's CURVE key file)");
  o.broker_public_key = resolve_public_key(vm["broker-key"].as<std::string>());
  o.keys = load_keypair(vm["key"].as<std::string>());
  o.max_message_bytes = vm["max-message-bytes"].as<std::size_t>();
  o.client_id = std::move(client_id);
  return o;
}

}  // namespace dockmesh::common
