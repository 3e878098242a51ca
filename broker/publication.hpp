// publication: a message the broker itself publishes on its XPUB side (scheduled requests,
// replies, dir/ changes, reannounce). The logic classes return these; the hub encodes and sends
// them. Plain value type.
#pragma once

#include <string>
#include <vector>

#include "common/envelope.hpp"

namespace dockmesh::broker {

struct publication {
  std::string topic;
  common::envelope env;
};

using publications = std::vector<publication>;

}  // namespace dockmesh::broker
