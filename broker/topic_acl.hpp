// topic_acl: what each identity may publish and subscribe to through the hub (docs/protocol.md,
// topics; docs/broker.md). check_publish runs on every message the XSUB side receives, so
// classify_topic and check_publish allocate nothing; check_subscribe runs on every subscription the
// XPUB side receives (ZMQ_XPUB_MANUAL: the broker applies only what it allows).
//
//   role    publish                                          subscribe (a prefix must lie inside)
//   agent   ann/ (own fqdn), evt/host/<own fqdn>/,           req/host/<own fqdn>/, req/all/,
//           rep/... with `from` = own fqdn                   rep/<own fqdn>/
//   bridge  req/any/, req/host/..., rep/...                  dir/, evt/, rep/<id bound to its key>/
//   admin   req/any/, req/host/..., req/all/, rep/...        everything (the mesh's root key)
//   broker  rep/... (peer brokers only listen)               dir/
// Anything else, "" for every role but admin, and another identity's rep/ topic are refused.
// dir/ is written by the broker itself, never accepted from a client. Who owns a rep/ topic is
// common/bus_identity's rule. Pure functions, any thread.
#pragma once

#include <string_view>

#include "broker/identity.hpp"
#include "common/envelope.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {

enum class acl_decision {
  allow,
  malformed_topic,   // not one of the topic shapes of docs/protocol.md
  forbidden_topic,   // this role may not publish on this kind of topic
  foreign_host,      // an agent speaking for another fqdn
  bad_announcement,  // ann/ whose envelope is not a valid announcement of the sender
  foreign_reply,     // subscribing to a rep/ topic another identity owns
  forged_sender,     // an agent's reply whose `from` is not its own fqdn
  count,
};
inline constexpr int acl_decision_count = static_cast<int>(acl_decision::count);

std::string_view to_string(acl_decision d);

struct topic_view {
  common::topic_kind kind;
  std::string_view name;  // fqdn or client id for named topics, else empty
};

// Parses a topic without allocating; false if it is not a well-formed dockmesh topic.
bool classify_topic(std::string_view topic, topic_view& out);

// Decision on the topic alone. ann/ additionally needs check_announcement on the decoded envelope.
acl_decision check_publish(const identity& who, const topic_view& topic);

// Whether `who` (connected with Z85 key `public_key`) may subscribe to `prefix`.
acl_decision check_subscribe(const identity& who, std::string_view public_key,
                             std::string_view prefix);

// A reply's `from` (read with common::peek_envelope): an agent answers only as itself.
acl_decision check_reply_sender(const identity& who, std::string_view from);

// ann/: action register|heartbeat|unregister|inventory, `from` and body.fqdn equal to the
// agent's own fqdn.
acl_decision check_announcement(const identity& who, const common::envelope& env);

}  // namespace dockmesh::broker
