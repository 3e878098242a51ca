#include "broker/topic_acl.hpp"
#include "common/protocol/catalogue.hpp"

#include <string>

#include "common/bus_identity.hpp"

namespace dockmesh::broker {
namespace {

using common::topic_kind;

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// prefix + segment + '/'; the segment rules are common::valid_segment's.
bool named(std::string_view topic, std::string_view prefix, topic_kind kind, topic_view& out) {
  if (!starts_with(topic, prefix)) return false;
  std::string_view rest = topic.substr(prefix.size());
  if (rest.size() < 2 || rest.back() != '/') return false;
  rest.remove_suffix(1);
  if (!common::valid_segment(rest)) return false;
  out = {kind, rest};
  return true;
}

bool is_request_publisher(role r) {
  return r == role::bridge || r == role::admin;
}

// A subscription narrower than (or equal to) `topic` only ever matches `topic`.
bool inside(std::string_view prefix, std::string_view topic) {
  return starts_with(prefix, topic);
}

// rep/<client-id>/...: allowed only to the identity that owns the client id. A shorter prefix
// ("rep/", "rep/ctl") would match other identities' topics.
acl_decision check_reply_subscription(const identity& who, std::string_view public_key,
                                      std::string_view prefix) {
  std::string_view rest = prefix.substr(4);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || !common::valid_segment(rest.substr(0, slash)))
    return acl_decision::foreign_reply;
  return common::owns_client_id(who.user_id(), public_key, rest.substr(0, slash))
             ? acl_decision::allow
             : acl_decision::foreign_reply;
}

acl_decision check_agent_subscription(const identity& who, std::string_view public_key,
                                      std::string_view prefix) {
  if (inside(prefix, "req/all/")) return acl_decision::allow;
  if (starts_with(prefix, "rep/")) return check_reply_subscription(who, public_key, prefix);
  if (starts_with(prefix, "req/host/"))
    return inside(prefix, "req/host/" + who.name + "/") ? acl_decision::allow
                                                        : acl_decision::foreign_host;
  return acl_decision::forbidden_topic;
}

}  // namespace

std::string_view to_string(acl_decision d) {
  switch (d) {
    case acl_decision::allow:
      return "allow";
    case acl_decision::malformed_topic:
      return "malformed topic";
    case acl_decision::forbidden_topic:
      return "topic not allowed for this role";
    case acl_decision::foreign_host:
      return "agent publishing for another host";
    case acl_decision::bad_announcement:
      return "invalid announcement";
    case acl_decision::foreign_reply:
      return "reply topic of another identity";
    case acl_decision::forged_sender:
      return "agent replying as another host";
    case acl_decision::count:
      break;
  }
  return "?";
}

bool classify_topic(std::string_view t, topic_view& out) {
  if (t == "ann/") return out = {topic_kind::ann, {}}, true;
  if (t == "req/any/") return out = {topic_kind::req_any, {}}, true;
  if (t == "req/all/") return out = {topic_kind::req_all, {}}, true;
  if (t == "dir/") return out = {topic_kind::dir, {}}, true;
  return named(t, "rep/", topic_kind::rep, out) ||
         named(t, "req/host/", topic_kind::req_host, out) ||
         named(t, "evt/host/", topic_kind::evt_host, out);
}

acl_decision check_publish(const identity& who, const topic_view& topic) {
  if (who.who == role::unknown || who.who == role::pending) return acl_decision::forbidden_topic;
  switch (topic.kind) {
    case topic_kind::rep:
      return acl_decision::allow;
    case topic_kind::ann:
      return who.who == role::agent ? acl_decision::allow : acl_decision::forbidden_topic;
    case topic_kind::evt_host:
      if (who.who != role::agent) return acl_decision::forbidden_topic;
      return topic.name == who.name ? acl_decision::allow : acl_decision::foreign_host;
    case topic_kind::req_any:
    case topic_kind::req_host:
      return is_request_publisher(who.who) ? acl_decision::allow : acl_decision::forbidden_topic;
    case topic_kind::req_all:
      return who.who == role::admin ? acl_decision::allow : acl_decision::forbidden_topic;
    case topic_kind::dir:
      return acl_decision::forbidden_topic;
  }
  return acl_decision::forbidden_topic;
}

acl_decision check_subscribe(const identity& who, std::string_view public_key,
                             std::string_view prefix) {
  switch (who.who) {
    case role::admin:
      return acl_decision::allow;
    case role::agent:
      return check_agent_subscription(who, public_key, prefix);
    case role::bridge:
      if (inside(prefix, "dir/") || inside(prefix, "evt/")) return acl_decision::allow;
      if (starts_with(prefix, "rep/")) return check_reply_subscription(who, public_key, prefix);
      return acl_decision::forbidden_topic;
    case role::broker:
      return inside(prefix, "dir/") ? acl_decision::allow : acl_decision::forbidden_topic;
    case role::pending:
    case role::unknown:
      break;
  }
  return acl_decision::forbidden_topic;
}

acl_decision check_reply_sender(const identity& who, std::string_view from) {
  if (who.who != role::agent) return acl_decision::allow;
  return from == who.name ? acl_decision::allow : acl_decision::forged_sender;
}

acl_decision check_announcement(const identity& who, const common::envelope& env) {
  if (who.who != role::agent) return acl_decision::forbidden_topic;
  // Which actions ann/ carries, and that agents send them, is the catalogue's word.
  const auto* spec = common::protocol::catalogue::builtin().find(
      env.action, common::protocol::message_kind::announcement);
  if (!spec || !spec->senders.has(who.who)) return acl_decision::bad_announcement;
  if (!env.body.is_object()) return acl_decision::bad_announcement;
  auto fqdn = env.body.find("fqdn");
  if (fqdn == env.body.end() || !fqdn->is_string()) return acl_decision::bad_announcement;
  if (env.from != who.name || fqdn->get_ref<const std::string&>() != who.name)
    return acl_decision::foreign_host;
  return acl_decision::allow;
}

}  // namespace dockmesh::broker
