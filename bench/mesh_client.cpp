#include "bench/mesh_client.hpp"

#include <stdexcept>

#include "common/curve_keys.hpp"
#include "common/topic.hpp"

namespace dockmesh::bench {

namespace po = boost::program_options;

void add_mesh_options(po::options_description& opts) {
  opts.add_options()("broker", po::value<std::string>()->default_value("127.0.0.1:7400"),
                     "broker HOST:PORT (XSUB port)")("broker-key", po::value<std::string>(),
                                                     "the broker's public key: Z85 or a key file")(
      "key", po::value<std::string>(), "an admin key file of the mesh");
}

common::bus_client_options mesh_options_from(const po::variables_map& vm,
                                             const std::string& client_id) {
  if (!vm.count("broker-key") || !vm.count("key"))
    throw std::runtime_error("--broker-key and --key are required");
  common::bus_client_options o;
  auto b = common::parse_broker_address(vm["broker"].as<std::string>());
  if (!b) throw std::runtime_error(b.err().message);
  o.brokers.push_back(*b);
  o.broker_public_key = common::resolve_public_key(vm["broker-key"].as<std::string>());
  o.keys = common::load_keypair(vm["key"].as<std::string>());
  o.client_id = client_id;
  return o;
}

mesh_client::mesh_client(zmq::context_t& ctx, common::bus_client_options options)
    : bus_(ctx, options), control_(ctx, options) {
  if (!bus_.wait_ready(std::chrono::seconds(15)))
    throw std::runtime_error("the bus did not come up within 15 s (broker, keys?)");
}

common::result<common::envelope> mesh_client::to_host(const std::string& fqdn,
                                                      const std::string& action,
                                                      nlohmann::json body,
                                                      std::chrono::milliseconds timeout) {
  auto topic = common::topic_req_host(fqdn);
  if (!topic) return topic.err();
  common::envelope req;
  req.action = action;
  req.role = "admin";
  req.user = "bench";
  req.body = std::move(body);
  return common::bus_request(bus_, *topic, std::move(req), timeout, timeout);
}

common::result<common::envelope> mesh_client::control(const std::string& action,
                                                      nlohmann::json body,
                                                      std::chrono::milliseconds timeout) {
  return control_.call(action, std::move(body), timeout);
}

}  // namespace dockmesh::bench
