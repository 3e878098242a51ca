#include "common/protocol/catalogue.hpp"

namespace dockmesh::common::protocol {

std::string_view to_string(message_kind k) {
  switch (k) {
    case message_kind::agent_action:
      return "agent-action";
    case message_kind::control_call:
      return "control-call";
    case message_kind::announcement:
      return "announcement";
    case message_kind::directory_event:
      return "directory-event";
    case message_kind::host_event:
      return "host-event";
    case message_kind::stream:
      return "stream";
    case message_kind::bus_signal:
      return "bus-signal";
  }
  return "unknown";
}

std::string_view to_string(message_target t) {
  switch (t) {
    case message_target::none:
      return "none";
    case message_target::host:
      return "host";
    case message_target::container:
      return "container";
    case message_target::scheduled:
      return "scheduled";
  }
  return "none";
}

nlohmann::json to_json(const message_spec& s) {
  nlohmann::json senders = nlohmann::json::array();
  for (role r : {role::agent, role::bridge, role::admin, role::broker, role::pending})
    if (s.senders.has(r)) senders.push_back(to_string(r));
  nlohmann::json out = {{"name", s.name},
                        {"kind", to_string(s.kind)},
                        {"senders", senders},
                        {"admin_only", s.admin_only},
                        {"changes_state", s.changes_state},
                        {"timeout_ms", s.timeout.count()},
                        {"target", to_string(s.target)},
                        {"body_schema", s.body_schema},
                        {"reply_schema", s.reply_schema},
                        {"label", s.label},
                        {"summary", s.summary}};
  if (!s.alias_of.empty()) out["alias_of"] = s.alias_of;
  if (!s.wait_field.empty()) out["wait_field"] = s.wait_field;
  if (!s.subject.empty()) out["subject"] = s.subject;
  if (s.opens_stream) out["opens_stream"] = true;
  return out;
}

nlohmann::json to_json(const catalogue& cat) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& e : cat.entries()) messages.push_back(to_json(e));
  return {{"version", 1}, {"messages", messages}};
}

}  // namespace dockmesh::common::protocol
