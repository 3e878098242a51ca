// stamping_proxy: for tests only. The broker's forwarding reduced to what receivers rely on: an
// XSUB/XPUB loop that appends a fixed sender stamp to every topic frame ([topic '\0' stamp], as
// common/bus_identity.hpp describes), without ZAP or ACLs. Runs on the test's proxy thread until
// `ctl` is readable; used by common's and the bridge's bus tests.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

namespace dockmesh::common::testing {

inline void stamping_proxy(zmq::socket_t& xs, zmq::socket_t& xp, zmq::socket_t& ctl,
                           std::string_view stamp) {
  for (;;) {
    zmq::pollitem_t items[] = {{xs.handle(), 0, ZMQ_POLLIN, 0},
                               {xp.handle(), 0, ZMQ_POLLIN, 0},
                               {ctl.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 3, std::chrono::milliseconds(-1));
    if (items[2].revents & ZMQ_POLLIN) return;
    zmq::message_t m;
    while (xp.recv(m, zmq::recv_flags::dontwait)) {  // subscriptions: libzmq applies them
    }
    while (xs.recv(m, zmq::recv_flags::dontwait)) {
      std::vector<zmq::message_t> parts;
      parts.push_back(std::move(m));
      while (parts.back().more()) {
        parts.emplace_back();
        if (!xs.recv(parts.back(), zmq::recv_flags::none)) break;
      }
      std::string topic = parts[0].to_string() + std::string(1, '\0') + std::string(stamp);
      parts[0] = zmq::message_t(topic.data(), topic.size());
      for (std::size_t i = 0; i < parts.size(); ++i)
        xp.send(parts[i], i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }
}

}  // namespace dockmesh::common::testing
