// version_stamp: the (incarnation, sequence) pair that orders an agent's announcements. An agent
// numbers announcements 1, 2, 3... within one incarnation (its start time in unix ms), so a later
// stamp always wins: the directory is last-writer-wins on it and converges whatever the arrival
// order. Header-only value type, any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

namespace dockmesh::broker {

struct version_stamp {
  std::int64_t incarnation = -1;
  std::int64_t sequence = -1;
  auto operator<=>(const version_stamp&) const = default;

  nlohmann::json to_json() const { return nlohmann::json::array({incarnation, sequence}); }
  static version_stamp from_json(const nlohmann::json& j) {
    if (!j.is_array() || j.size() != 2 || !j[0].is_number_integer() || !j[1].is_number_integer())
      return {};
    return {j[0].get<std::int64_t>(), j[1].get<std::int64_t>()};
  }
  // From an announcement body: non-negative integers `incarnation` and `sequence`.
  static std::optional<version_stamp> of_announcement(const nlohmann::json& body) {
    auto i = body.find("incarnation");
    auto s = body.find("sequence");
    if (i == body.end() || s == body.end() || !i->is_number_integer() || !s->is_number_integer())
      return std::nullopt;
    version_stamp v{i->get<std::int64_t>(), s->get<std::int64_t>()};
    if (v.incarnation < 0 || v.sequence < 0) return std::nullopt;
    return v;
  }
};

}  // namespace dockmesh::broker
