#include "broker/zap_authenticator.hpp"

#include <zmq.h>

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

}  // namespace

common::result<zap_request> parse_zap_request(std::span<const std::string_view> frames) {
  if (frames.size() < 6) return make_error(errc::malformed, "ZAP request has too few frames");
  if (frames[0] != "1.0") return make_error(errc::malformed, "unsupported ZAP version");
  zap_request r{std::string(frames[1]),
                std::string(frames[2]),
                std::string(frames[3]),
                std::string(frames[5]),
                {}};
  if (r.mechanism == "CURVE") {
    if (frames.size() != 7 || frames[6].size() != 32)
      return make_error(errc::malformed, "CURVE ZAP request without a 32-byte key");
    char z85[41];
    if (!zmq_z85_encode(z85, reinterpret_cast<const std::uint8_t*>(frames[6].data()), 32))
      return make_error(errc::malformed, "cannot encode the client key");
    r.public_key.assign(z85, 40);
  }
  return r;
}

std::string encode_zap_metadata(std::string_view public_key) {
  std::string out;
  std::string_view name = public_key_property;
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  put_u32(out, static_cast<std::uint32_t>(public_key.size()));
  out.append(public_key);
  return out;
}

zap_answer zap_authenticator::refuse(std::string reason) {
  ++refused_;
  return zap_answer{false, {}, {}, std::move(reason)};
}

zap_answer zap_authenticator::decide(const zap_request& req, std::int64_t now_ms) {
  bool control = req.domain == zap_domain_control;
  if (!control && req.domain != zap_domain_bus) return refuse("unknown ZAP domain");
  if (req.mechanism != "CURVE") return refuse("CURVE is required");
  if (req.public_key == server_public_key_) {
    ++accepted_;
    return zap_answer{true, "broker:broker", req.public_key, "OK"};
  }
  const key_entry* e = keys_.find(req.public_key);
  if (e && e->state == key_state::accepted) {
    ++accepted_;
    return zap_answer{true, std::string(to_string(e->who)) + ":" + e->name, req.public_key, "OK"};
  }
  if (e && (e->state == key_state::revoked || e->state == key_state::rejected))
    return refuse("key " + std::string(to_string(e->state)));
  if (!e) keys_.note_pending(req.public_key, {}, now_ms);
  if (!control) return refuse("key not accepted");
  ++accepted_;
  return zap_answer{true, "pending:" + req.public_key, req.public_key, "OK"};
}

}  // namespace dockmesh::broker
