// zap_authenticator: the broker's answer to ZeroMQ's ZAP (authentication) requests. Every CURVE
// handshake on the broker's sockets asks it; it answers from the key_store:
//   domain "bus":     accepted keys pass as `<role>:<name>`; all others are refused (and
//                     unknown keys are remembered as pending, for `keys list`).
//   domain "control": accepted keys as above; unknown and pending keys pass as
//                     `pending:<public key>` (they may only call `enroll`).
//   both:             rejected and revoked keys are refused; the mesh's own server key passes
//                     as `broker:broker` (peer brokers watching each other's dir/).
// Every accepted connection also carries its public key as the ZAP metadata property
// `Public-Key`, so the control service can check the key's current state on every request.
// Pure decision logic; the hub thread does the socket I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "broker/key_store.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

inline constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";
inline constexpr const char* zap_domain_bus = "bus";
inline constexpr const char* zap_domain_control = "control";
inline constexpr const char* public_key_property = "Public-Key";

struct zap_request {
  std::string request_id;
  std::string domain;
  std::string address;
  std::string mechanism;
  std::string public_key;  // Z85 of the 32-byte CURVE key; empty for other mechanisms
};

// Frames: version "1.0", request id, domain, address, identity, mechanism, credentials...
common::result<zap_request> parse_zap_request(std::span<const std::string_view> frames);

struct zap_answer {
  bool ok = false;
  std::string user_id;     // empty when refused
  std::string public_key;  // metadata for accepted connections
  std::string reason;      // status text
};

// ZMTP property list {Public-Key: key}, the 6th frame of a ZAP reply.
std::string encode_zap_metadata(std::string_view public_key);

class zap_authenticator {
 public:
  zap_authenticator(key_store& keys, std::string server_public_key)
      : keys_(keys), server_public_key_(std::move(server_public_key)) {}

  zap_answer decide(const zap_request& req, std::int64_t now_ms);

  std::uint64_t accepted() const { return accepted_; }
  std::uint64_t refused() const { return refused_; }

 private:
  zap_answer refuse(std::string reason);

  key_store& keys_;
  std::string server_public_key_;
  std::uint64_t accepted_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace dockmesh::broker
