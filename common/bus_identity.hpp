// bus_identity: who is who on the bus, as the broker proves it (docs/architecture.md, security), in
// one place for the broker and every receiver.
//  - A stamp is the authenticated `<role>:<name>` of a message's sender (the ZAP User-Id). The
//    broker appends it to the topic frame of every message it forwards
//    ([topic '\0' stamp][envelope]; subscriptions still match the topic as a prefix); its own
//    messages carry `broker:broker`. A topic with a '\0' is malformed, so the broker drops a
//    client's message that carries one: a stamp cannot be forged through the broker.
//  - A reply topic rep/<client-id>/ names its owner. A key-bound client id is
//    `<label>_<64 hex digits of the client's CURVE public key>` (bridge, CLI, broker); any other
//    client id is an agent's fqdn and belongs to agent:<fqdn>. The broker lets only the owner
//    subscribe to it.
//  - A reply is accepted only from the identity the request addressed (reply_stamp_accepted).
// Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/envelope.hpp"
#include "common/result.hpp"

namespace dockmesh::common {

inline constexpr std::string_view broker_stamp = "broker:broker";

// {topic, stamp} of a received topic frame; the stamp is empty if there is none.
std::pair<std::string_view, std::string_view> split_stamp(std::string_view topic_frame);

// 64 lower-case hex digits of a Z85 public key; empty if `z85` is not a 40-character key.
std::string public_key_hex(std::string_view z85);

// `<label>_<hex key>`; errc::invalid_argument for a bad key or a label with '_' or '/'.
result<std::string> key_bound_client_id(std::string_view label, std::string_view public_key_z85);

// The hex key a key-bound client id is bound to, or empty for an agent's client id (its fqdn).
std::string_view client_id_key(std::string_view client_id);

// Whether the connection `stamp` (with Z85 key `public_key`) owns client id `client_id`.
bool owns_client_id(std::string_view stamp, std::string_view public_key,
                    std::string_view client_id);

// Whether a reply stamped `stamp` may answer a request that was published on `request_topic`:
//   req/host/<fqdn>/ -> agent:<fqdn> or the broker (fail-fast answers for a down host);  req/all/
//   -> any agent whose reply says it is from itself; req/any/ -> the broker (its own answers and
//   fan-outs) or an agent answering as itself (the placed host; the leader drops a reply from any
//   other host, see docs/broker.md).
bool reply_stamp_accepted(std::string_view request_topic, std::string_view stamp,
                          const envelope& reply);

}  // namespace dockmesh::common
