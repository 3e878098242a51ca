// catalogue: every message of the dockmesh protocol, defined once. An entry says what a message
// is called (names.hpp), its kind, which connection roles may send it, whether the user behind it
// must be an admin, how long a requester waits by default, how an agent action finds its agent,
// and the stems of its JSON Schemas in schemas/ (body and reply). The agent's dispatcher and
// endpoint allowlist, the broker's announcement ACL and control dispatch, the bridge's message
// plan and schema registry, the CLI's send plan and the web UI (GET /api/v1/catalogue) all derive
// from it; schemas/ and docs/protocol.md are checked against it by common/protocol tests.
// builtin() is built once and immutable: any thread. Tests build catalogues of their own.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/protocol/names.hpp"
#include "common/protocol/role.hpp"

namespace dockmesh::common::protocol {

enum class message_kind {
  agent_action,     // a request an agent executes (req/...), answered on rep/<client>/
  control_call,     // a request to the broker's ROUTER endpoint, answered on the same socket
  announcement,     // ann/: an agent announces itself or its inventory
  directory_event,  // dir/: a broker reports a change of its directory
  host_event,       // evt/host/<fqdn>/: an agent forwards a Docker event
  stream,           // rep/<client>/: progress an agent sends before its final reply
  bus_signal,       // bus housekeeping (reannounce, a client's own reply-topic probe)
};

// How an agent action reaches its agent (none for every other kind).
enum class message_target {
  none,
  host,       // names a host: req/host/<fqdn>/ (or req/all/ for admins)
  container,  // names a container ("id"): sent to the host the directory knows it on
  scheduled,  // without a host, req/any/ and the scheduling broker places it; else like host
};

struct message_spec {
  std::string name;
  message_kind kind = message_kind::agent_action;
  role_set senders;
  bool admin_only = false;               // the user behind the request must have the admin role
  bool changes_state = false;            // creates, changes or removes something
  std::chrono::milliseconds timeout{0};  // a requester's default wait; 0 for one-way messages
  message_target target = message_target::none;
  std::string alias_of;       // the entry this one is another name for ("" if none)
  std::string body_schema;    // schemas/<stem>.json of the body; "" when the body is empty/free
  std::string reply_schema;   // schemas/<stem>.json of the reply body; "" for one-way messages
  std::string wait_field;     // a body field (seconds) the agent may wait on top of `timeout`
  std::string subject;        // what the message is about: "host", "container" or "service"
                              // (dir/ events), "image" (pull-progress); "" when its body says
                              // (docker-event)
  bool opens_stream = false;  // answered once, then stream-data until stream-end (streams.md)
  std::string label;          // a short verb for user interfaces ("start", "logs")
  std::string summary;        // one line for readers
};

class catalogue {
 public:
  // Throws std::invalid_argument on a duplicate name or an alias of an unknown entry.
  explicit catalogue(std::vector<message_spec> entries);
  static const catalogue& builtin();

  const message_spec* find(std::string_view name) const;
  const message_spec* find(std::string_view name, message_kind kind) const;
  // The entry an alias stands for (the entry itself when it is no alias).
  const message_spec& canonical(const message_spec& spec) const;
  const std::vector<message_spec>& entries() const { return entries_; }
  std::vector<const message_spec*> of_kind(message_kind kind) const;

 private:
  std::vector<message_spec> entries_;
};

// The entries of the built-in catalogue, for tests that extend it.
std::vector<message_spec> builtin_messages();

std::string_view to_string(message_kind k);
std::string_view to_string(message_target t);
nlohmann::json to_json(const message_spec& spec);
// {"version": 1, "messages": [...]}: what the bridge serves at GET /api/v1/catalogue.
nlohmann::json to_json(const catalogue& cat);

// Shorthands on the built-in catalogue.
bool is_kind(std::string_view name, message_kind kind);
// A dir/ event about a host (up, down, gone, updated): what invalidates cached host lists.
bool is_host_directory_event(std::string_view name);
// An agent action answered by a stream (follow-logs, follow-stats).
bool opens_stream(std::string_view name);

}  // namespace dockmesh::common::protocol
