#include "ui-bridge/message_gateway.hpp"
#include "ui-bridge/json_fields.hpp"

#include "common/ownership.hpp"
#include "common/protocol/catalogue.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

nlohmann::json container_of(const common::envelope& reply) {
  return reply.body;  // the broker's `container` call answers with the record itself
}

namespace {

common::error reply_error(const common::envelope& reply, const std::string& ref) {
  if (reply.code == 404) return common::no_such_container(ref);
  if (reply.code == 409)
    return make_error(errc::conflict,
                      "'" + ref + "' matches several containers; give more of the id");
  std::string why =
      reply.err ? reply.err->message : "directory answered " + std::to_string(reply.code);
  return make_error(reply.err ? reply.err->code : common::from_status(reply.code), why);
}

}  // namespace

message_gateway::message_gateway(const schema_registry& schemas, bus_actor& bus,
                                 std::chrono::milliseconds control_timeout)
    : schemas_(schemas), bus_(bus), control_timeout_(control_timeout) {}

void message_gateway::send(const principal& who, const nlohmann::json& message, reply_handler done,
                           std::string request_id) {
  auto plan = plan_message(message, schemas_, who);
  if (!plan) return done(plan.err());
  plan->request_id = std::move(request_id);
  send_plan(who, std::move(*plan), std::move(done));
}

void message_gateway::open_stream(const principal& who, const nlohmann::json& message,
                                  reply_handler opened, bus_actor::stream_handler pieces) {
  auto plan = plan_message(message, schemas_, who);
  if (!plan) return opened(plan.err());
  if (!common::protocol::opens_stream(plan->action))
    return opened(make_error(errc::invalid_argument,
                             "'" + plan->action + "' opens no stream; send it as a message"));
  send_plan(who, std::move(*plan), std::move(opened), std::move(pieces));
}

void message_gateway::send_plan(const principal& who, message_plan plan, reply_handler done,
                                bus_actor::stream_handler pieces) {
  if (common::protocol::opens_stream(plan.action) && !pieces)
    return done(
        make_error(errc::invalid_argument, "'" + plan.action +
                                               "' opens a stream: follow it over the WebSocket "
                                               "({\"type\":\"follow\",\"message\":{...}})"));
  if (plan.rule.kind != action_kind::container)
    return send_to_host(who, std::move(plan), std::move(done), std::move(pieces));
  std::string ref = plan.body["id"].get<std::string>();
  resolve_container(who, ref,
                    [this, who, plan = std::move(plan), done = std::move(done),
                     pieces = std::move(pieces)](common::result<nlohmann::json> c) mutable {
                      if (!c) return done(c.err());
                      std::string host = text_of(*c, "host");
                      if (!plan.host.empty() && plan.host != host)
                        return done(make_error(errc::not_found,
                                               "container '" + plan.body["id"].get<std::string>() +
                                                   "' is not on host " + plan.host));
                      plan.host = host;
                      // The full id from here on.
                      plan.body["id"] = text_of(*c, "id", plan.body["id"].get<std::string>());
                      send_to_host(who, std::move(plan), std::move(done), std::move(pieces));
                    });
}

void message_gateway::send_to_host(const principal& who, message_plan plan, reply_handler done,
                                   bus_actor::stream_handler pieces) {
  std::string topic;
  if (plan.host.empty()) {
    topic = common::topic_req_any();
  } else {
    auto t = common::topic_req_host(plan.host);
    if (!t) return done(make_error(errc::invalid_argument, "host: " + t.err().message));
    topic = *t;
  }
  if (pieces)
    return bus_.open_stream(std::move(topic), make_request(who, plan), plan.rule.timeout,
                            std::move(done), std::move(pieces));
  bus_.request(std::move(topic), make_request(who, plan), plan.rule.timeout, std::move(done));
}

void message_gateway::resolve_container(const principal& who, const std::string& ref,
                                        container_handler done) {
  if (!valid_container_ref(ref))
    return done(make_error(errc::invalid_argument, "id: '" + ref.substr(0, 64) +
                                                       "' is not a container id, prefix or name"));
  // Users look only among their own containers: another user's container answers exactly like a
  // missing one (no existence oracle), and their own name wins over another user's.
  lookup(who, ref, !who.is_admin(), std::move(done));
}

void message_gateway::lookup(const principal& who, const std::string& ref, bool as_owner,
                             container_handler done) {
  nlohmann::json body = {{"ref", ref}};
  if (as_owner) body["owner"] = who.user_id;
  bus_.control(std::string(common::protocol::names::container), body, control_timeout_,
               [who, ref, done = std::move(done)](common::result<common::envelope> r) mutable {
                 if (!r) return done(r.err());
                 if (r->code == 200) {
                   auto c = container_of(*r);
                   if (auto ok = check_owner(who, c, ref); !ok) return done(ok.err());
                   return done(std::move(c));
                 }
                 done(reply_error(*r, ref));
               });
}

void message_gateway::control(std::string action, nlohmann::json body, reply_handler done) {
  bus_.control(std::move(action), std::move(body), control_timeout_, std::move(done));
}

}  // namespace dockmesh::bridge
