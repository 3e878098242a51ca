// role: who is at the other end of a bus connection, as the broker's ZAP handler names it from
// the connection's accepted key (agent, bridge, admin; broker for peer brokers; pending for a key
// not yet accepted; unknown for anything else). The catalogue says which roles may send each
// message; the broker's ACLs and control service compare against it. Pure; any thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace dockmesh::common::protocol {

enum class role : std::uint8_t { agent, bridge, admin, broker, pending, unknown };

std::string_view to_string(role r);
// "agent", "bridge", "admin", "broker"; pending/unknown are not roles a key can be given.
std::optional<role> parse_key_role(std::string_view s);

// A set of roles, e.g. the senders of a message.
class role_set {
 public:
  constexpr role_set() = default;
  constexpr role_set(std::initializer_list<role> roles) {
    for (role r : roles) bits_ |= bit(r);
  }
  constexpr bool has(role r) const { return (bits_ & bit(r)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool operator==(const role_set&) const = default;

 private:
  static constexpr std::uint8_t bit(role r) { return std::uint8_t(1u << unsigned(r)); }
  std::uint8_t bits_ = 0;
};

}  // namespace dockmesh::common::protocol
