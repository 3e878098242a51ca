// directory_event: one change of the broker's directory, published on `dir/` as an envelope with
// this action and body. Actions: host-up, host-down, host-gone, host-updated, container-added,
// container-changed, container-removed (and broker-heartbeat from the hub itself).
// Plain value type.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dockmesh::broker {

struct directory_event {
  std::string action;
  nlohmann::json body;
};

using directory_events = std::vector<directory_event>;

}  // namespace dockmesh::broker
