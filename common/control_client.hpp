// control_client: request/reply with the brokers' ROUTER endpoints (directory queries, key
// management, enrollment). A DEALER socket with CURVE per broker; a call sends
// [empty][envelope] and expects [empty][reply envelope]. It asks the brokers in order and returns
// the first answer. One owning thread; blocks only up to the call's timeout.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/bus_client.hpp"
#include "common/envelope.hpp"
#include "common/result.hpp"

namespace dockmesh::common {

class control_client {
 public:
  control_client(zmq::context_t& ctx, const bus_client_options& options);  // throws on bad keys
  // Sends {action, body} and returns the reply envelope (any code); errc::timeout if no broker
  // answered, errc::malformed if the answer did not decode.
  result<envelope> call(const std::string& action, nlohmann::json body,
                        std::chrono::milliseconds timeout);

 private:
  bus_client_options options_;
  zmq::context_t& ctx_;
  std::vector<std::unique_ptr<zmq::socket_t>> sockets_;
  void reconnect(std::size_t i);
};

}  // namespace dockmesh::common
