// topic_acl: what each identity may publish through the hub (docs/protocol.md, topics; docs/broker.md). Checked on
// every message the XSUB side receives, so classify_topic and check_publish allocate nothing.
//   agent:  ann/ (its own fqdn only), evt/host/<own fqdn>/, rep/...
//   bridge: req/any/, req/host/..., rep/...
//   admin:  req/any/, req/host/..., req/all/, rep/...
//   broker: rep/... (peer brokers only listen; they publish dir/ on their own hub)
// dir/ is written by the broker itself, never accepted from a client. Pure functions, any thread.
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
};

std::string_view to_string(acl_decision d);

struct topic_view {
  common::topic_kind kind;
  std::string_view name;  // fqdn or client id for named topics, else empty
};

// Parses a topic without allocating; false if it is not a well-formed dockmesh topic.
bool classify_topic(std::string_view topic, topic_view& out);

// Decision on the topic alone. ann/ additionally needs check_announcement on the decoded envelope.
acl_decision check_publish(const identity& who, const topic_view& topic);

// ann/: action register|heartbeat|unregister|inventory, `from` and body.fqdn equal to the
// agent's own fqdn.
acl_decision check_announcement(const identity& who, const common::envelope& env);

}  // namespace dockmesh::broker
