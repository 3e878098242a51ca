// envelope: the one message shape on the bus (docs/protocol.md, "Frames, envelopes, topics"), and
// its msgpack codec. A request carries `action`; a reply carries `re` (the request id) and `code`.
// The body is held as nlohmann::json because JSON is what the edges (CLI, bridge) speak; on the
// wire it is msgpack. decode() never throws: hostile bytes become errc::malformed / errc::too_large
// with a message naming what was wrong. Pure functions, usable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dockmesh::common {

inline constexpr int protocol_version = 1;

struct envelope {
  int v = protocol_version;
  std::string id;             // unique per logical request/message; retries reuse it
  int attempt = 0;            // retry number of the same id (extension: lets receivers tell a retry
                              // from a duplicate delivered by a second broker)
  std::string action;         // requests, announcements, events
  std::string from;           // sender: client id, or the agent's fqdn
  std::string reply_to;       // rep/<client-id>/ for requests
  std::string user;           // set by the bridge from the authenticated user; never by the UI
  std::string role;           // "admin" | "user" | "" (set by bridge/CLI)
  std::int64_t deadline = 0;  // unix ms; 0 = none
  std::int64_t epoch = 0;     // scheduled requests: the scheduling leader's fencing epoch (etcd
                              // revision of its leadership); agents refuse a lower one. 0 = none
  std::string re;             // replies: the request id
  int code = 0;               // replies: HTTP-like status
  nlohmann::json body;        // object (or null)
  std::optional<error> err;   // replies with code >= 400: {code, message}

  bool is_reply() const { return !re.empty(); }
};

struct decode_limits {
  std::size_t max_bytes = 4 * 1024 * 1024;  // whole frame
  std::size_t max_depth = 32;               // nesting of body
  std::size_t max_string = 1024 * 1024;
  std::size_t max_elements = 100000;  // per array/map
};

std::string encode(const envelope& env);
result<envelope> decode(std::string_view bytes, const decode_limits& limits = {});

// Reply helpers: every reply copies the request id into `re` and answers on request.reply_to.
envelope make_reply(const envelope& request, std::string from, int code, nlohmann::json body);
envelope make_error_reply(const envelope& request, std::string from, const error& e);

// JSON view of an envelope, for the CLI and the bridge (`watch` prints these).
nlohmann::json to_json(const envelope& env);

// The `from`, `re` and `code` of an encoded envelope, read without building the body: the broker
// checks every agent reply's sender with it. nullopt if the bytes are not a msgpack map.
struct envelope_peek {
  std::string from;
  std::string re;
  int code = 0;
  std::string action;  // e.g. stream-end, which also carries `re` (docs/streams.md)
};
std::optional<envelope_peek> peek_envelope(std::string_view bytes,
                                           const decode_limits& limits = {});

// A new random message id (32 hex chars).
std::string new_message_id();
// The request id for a caller's idempotency key (HTTP Idempotency-Key, dockmeshctl
// --request-id): "key-" + 32 hex chars of a keyed hash of (user, key), so the same key from the
// same user always gives the same id (a retried create is answered, never repeated) and two
// users' keys never meet. 400 for an empty key or one over 256 bytes.
result<std::string> request_id_from_key(std::string_view user, std::string_view key);
std::int64_t now_ms();

}  // namespace dockmesh::common
