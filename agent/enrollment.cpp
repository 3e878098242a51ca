#include "agent/enrollment.hpp"

#include "common/control_client.hpp"
#include "common/log.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::agent {

enrollment enroll(zmq::context_t& ctx, const common::bus_client_options& bus,
                  const std::string& fqdn, const std::string& token,
                  std::chrono::milliseconds timeout) {
  common::control_client control(ctx, bus);
  auto reply = control.call(std::string(common::protocol::names::enroll),
                            {{"fqdn", fqdn}, {"token", token}}, timeout);
  if (!reply) {
    DM_LOG(warn) << "enrollment of " << fqdn << " not answered: " << reply.err().message
                 << "; connecting anyway (works if the key is already accepted)";
    return enrollment::failed;
  }
  if (reply->code == 200) {
    DM_LOG(info) << "enrolled as agent " << fqdn;
    return enrollment::accepted;
  }
  if (reply->code == 202) {
    DM_LOG(warn) << "key pending: the join token was not accepted; an admin can run "
                 << "`dockmeshctl keys accept " << fqdn << "`";
    return enrollment::pending;
  }
  DM_LOG(error) << "enrollment of " << fqdn << " refused (" << reply->code
                << "): " << (reply->err ? reply->err->message : std::string("no message"));
  return enrollment::failed;
}

}  // namespace dockmesh::agent
