// mesh_client: how a benchmark reaches an existing mesh (scripts/mesh.sh up): bus options for
// the admin key from the command line, an admin bus_client that is ready to use, and requests to
// one host with the admin role. Owned by bench/; one thread per instance.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/program_options.hpp>
#include <zmq.hpp>

#include "common/bus_client.hpp"
#include "common/control_client.hpp"

namespace dockmesh::bench {

// --broker HOST:PORT, --broker-key FILE|Z85, --key FILE (an admin key of the mesh).
void add_mesh_options(boost::program_options::options_description& opts);
common::bus_client_options mesh_options_from(const boost::program_options::variables_map& vm,
                                             const std::string& client_id);

class mesh_client {
 public:
  mesh_client(zmq::context_t& ctx, common::bus_client_options options);  // throws if not ready
  // A request with role admin on req/host/<fqdn>/; the reply or an error.
  common::result<common::envelope> to_host(const std::string& fqdn, const std::string& action,
                                           nlohmann::json body, std::chrono::milliseconds timeout);
  common::result<common::envelope> control(const std::string& action, nlohmann::json body,
                                           std::chrono::milliseconds timeout);
  common::bus_client& bus() { return bus_; }

 private:
  common::bus_client bus_;
  common::control_client control_;
};

}  // namespace dockmesh::bench
