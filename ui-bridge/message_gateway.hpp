// message_gateway: the asynchronous half of sending a client's message. Given a checked plan
// (message_plan.hpp) it finds where the message goes -- req/any/ for a create without a host,
// req/host/<fqdn>/ otherwise -- and, for container operations, asks the brokers' directory
// (`container` control call: id, unique prefix or the caller's container name) for the
// container's host and owner, refuses with 403 naming the reason when the caller does not own it,
// and sends the request with the full id and the caller's user and role in the envelope.
// Shared by REST and WebSocket. All completions run on the bus thread (see bus_actor.hpp): they
// must only post to their own strand.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "ui-bridge/bus_actor.hpp"
#include "ui-bridge/message_plan.hpp"

namespace dockmesh::bridge {

class message_gateway {
 public:
  using reply_handler = bus_actor::reply_handler;
  using container_handler = std::function<void(common::result<nlohmann::json>)>;

  message_gateway(const schema_registry& schemas, bus_actor& bus,
                  std::chrono::milliseconds control_timeout = std::chrono::milliseconds(3000));

  // plan_message + send_plan. Planning errors complete `done` at once, on the calling thread.
  // `request_id`: the bus id derived from the caller's Idempotency-Key (empty = a fresh one).
  void send(const principal& who, const nlohmann::json& message, reply_handler done,
            std::string request_id = {});
  void send_plan(const principal& who, message_plan plan, reply_handler done,
                 bus_actor::stream_handler pieces = {});
  // A stream opener (follow-logs, follow-stats), checked and routed like send(); `opened` gets
  // the opening reply, `pieces` the stream (see bus_actor::open_stream). Other actions: 400.
  void open_stream(const principal& who, const nlohmann::json& message, reply_handler opened,
                   bus_actor::stream_handler pieces);
  // The directory record of a container the caller may act on (403/404/409 otherwise).
  void resolve_container(const principal& who, const std::string& ref, container_handler done);
  // Pass-throughs to the bus actor for open streams.
  void stream_consumed(std::string stream, std::size_t bytes) {
    bus_.stream_consumed(std::move(stream), bytes);
  }
  void close_stream(std::string stream) { bus_.close_stream(std::move(stream)); }
  void stream_send(std::string stream, std::string action, nlohmann::json body) {
    bus_.stream_send(std::move(stream), std::move(action), std::move(body));
  }
  // A directory (control) call, passed through to the bus actor.
  void control(std::string action, nlohmann::json body, reply_handler done);

  const schema_registry& schemas() const { return schemas_; }

 private:
  void lookup(const principal& who, const std::string& ref, bool as_owner, container_handler done);
  void send_to_host(const principal& who, message_plan plan, reply_handler done,
                    bus_actor::stream_handler pieces);

  const schema_registry& schemas_;
  bus_actor& bus_;
  std::chrono::milliseconds control_timeout_;
};

// The container record of a `container` control reply (schemas/container.reply.json).
nlohmann::json container_of(const common::envelope& reply);

}  // namespace dockmesh::bridge
