#include "agent/policy_options.hpp"

#include <stdexcept>

namespace dockmesh::agent {

namespace po = boost::program_options;

void add_policy_options(po::options_description& options) {
  options.add_options()("policy-bind-prefix", po::value<std::vector<std::string>>()->composing(),
                        "host directory under which non-admins may bind host paths (repeatable; "
                        "default: none)")("policy-ports",
                                          po::value<std::string>()->default_value("1024-65535"),
                                          "published host ports non-admins may use, MIN-MAX")(
      "policy-registry", po::value<std::vector<std::string>>()->composing(),
      "registry (host[:port]) non-admins may pull from (repeatable; default: none)")(
      "policy-host-network", po::bool_switch(), "let non-admins use network_mode \"host\"")(
      "allow-exec", po::bool_switch(),
      "allow exec-start sessions (terminals) into this host's containers; off by default");
}

namespace {

std::vector<std::string> list_of(const po::variables_map& vm, const char* key) {
  if (!vm.count(key)) return {};
  return vm[key].as<std::vector<std::string>>();
}

void parse_ports(const std::string& text, common::create_policy& p) {
  auto dash = text.find('-');
  try {
    if (dash == std::string::npos) throw std::invalid_argument(text);
    std::size_t used = 0;
    p.port_min = std::stoll(text.substr(0, dash), &used);
    if (used != dash) throw std::invalid_argument(text);
    p.port_max = std::stoll(text.substr(dash + 1), &used);
    if (used != text.size() - dash - 1) throw std::invalid_argument(text);
  } catch (const std::logic_error&) {
    throw std::runtime_error("--policy-ports must be MIN-MAX, got '" + text + "'");
  }
}

}  // namespace

common::create_policy policy_from(const po::variables_map& vm) {
  common::create_policy p;
  p.bind_prefixes = list_of(vm, "policy-bind-prefix");
  p.registries = list_of(vm, "policy-registry");
  parse_ports(vm["policy-ports"].as<std::string>(), p);
  p.host_network = vm.count("policy-host-network") && vm["policy-host-network"].as<bool>();
  if (auto ok = common::validate_policy(p); !ok)
    throw std::runtime_error("--policy-*: " + ok.err().message);
  return p;
}

}  // namespace dockmesh::agent
