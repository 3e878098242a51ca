#include "common/bus_identity.hpp"

#include <array>
#include <cstdint>

#include <zmq.h>

#include "common/topic.hpp"

namespace dockmesh::common {
namespace {

constexpr std::size_t key_hex_size = 64;
constexpr std::string_view agent_prefix = "agent:";

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool stamped_agent(std::string_view stamp, std::string_view fqdn) {
  return !fqdn.empty() && stamp.size() == agent_prefix.size() + fqdn.size() &&
         stamp.substr(0, agent_prefix.size()) == agent_prefix &&
         stamp.substr(agent_prefix.size()) == fqdn;
}

}  // namespace

std::pair<std::string_view, std::string_view> split_stamp(std::string_view frame) {
  auto nul = frame.find('\0');
  if (nul == std::string_view::npos) return {frame, {}};
  return {frame.substr(0, nul), frame.substr(nul + 1)};
}

std::string public_key_hex(std::string_view z85) {
  if (z85.size() != 40) return {};
  std::string z(z85);  // zmq_z85_decode wants a terminated string
  std::array<std::uint8_t, 32> raw{};
  if (!zmq_z85_decode(raw.data(), z.c_str())) return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(key_hex_size);
  for (auto b : raw) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

result<std::string> key_bound_client_id(std::string_view label, std::string_view public_key_z85) {
  std::string hex = public_key_hex(public_key_z85);
  if (hex.empty()) return make_error(errc::invalid_argument, "not a CURVE public key");
  std::string id = std::string(label) + "_" + hex;
  if (label.empty() || label.find('_') != std::string_view::npos || !valid_segment(id))
    return make_error(errc::invalid_argument, "bad client id label '" + std::string(label) + "'");
  return id;
}

std::string_view client_id_key(std::string_view client_id) {
  if (client_id.size() < key_hex_size + 2) return {};
  std::size_t sep = client_id.size() - key_hex_size - 1;
  if (client_id[sep] != '_') return {};
  std::string_view hex = client_id.substr(sep + 1);
  return is_hex(hex) ? hex : std::string_view();
}

bool owns_client_id(std::string_view stamp, std::string_view public_key,
                    std::string_view client_id) {
  std::string_view key = client_id_key(client_id);
  if (key.empty()) return stamped_agent(stamp, client_id);
  return key == public_key_hex(public_key);
}

bool reply_stamp_accepted(std::string_view request_topic, std::string_view stamp,
                          const envelope& reply) {
  auto t = parse_topic(request_topic);
  if (!t) return false;
  switch (t->kind) {
    // The broker answers for a host it knows is down or unknown (fail fast), so its own stamp
    // is accepted too: only a broker can put broker:broker on a message.
    case topic_kind::req_host:
      return stamp == broker_stamp || stamped_agent(stamp, t->name);
    case topic_kind::req_all:
      return stamped_agent(stamp, reply.from);
    case topic_kind::req_any:
      return stamp == broker_stamp || stamped_agent(stamp, reply.from);
    default:
      return false;
  }
}

}  // namespace dockmesh::common
