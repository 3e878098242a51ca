// host_policy_book's quota checks (declared in host_policy.hpp).
#include "broker/host_policy.hpp"
#include "broker/reconcile_plan.hpp"
#include "common/json_fields.hpp"
#include "common/ownership.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::broker {
namespace {

using nlohmann::json;

struct usage {
  std::int64_t containers = 0;
  std::int64_t memory = 0;
};

std::string bytes(std::int64_t n) {
  return std::to_string(n) + " bytes";
}

std::int64_t number(const json& body, const char* field, std::int64_t fallback) {
  auto it = body.find(field);
  return it != body.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

}  // namespace

std::optional<gate_refusal> host_policy_book::check_create_quota(
    const common::envelope& req, const container_index& containers) const {
  if (req.is_reply() || req.action != common::protocol::names::create_container ||
      common::role_of_envelope(req.role) == common::role::admin)
    return std::nullopt;
  auto q = quota_of(req.user);
  if (!q) return std::nullopt;
  usage used;
  for (const auto& c : containers.list("", req.user)) {
    std::string request = c.value("request", "");
    // A retry (same request id; a spread create's parts are <id>-<n>) was counted already.
    if (request == req.id || request.rfind(req.id + "-", 0) == 0) return std::nullopt;
    ++used.containers;
    used.memory += number(c, "memory_limit", 0);
  }
  std::int64_t instances = std::max<std::int64_t>(1, number(req.body, "instances", 1));
  std::int64_t memory = number(req.body, "memory", 0);
  auto refuse = [&](std::string why) {
    return gate_refusal{403, "quota: " + why, {{"quota", q->to_json()}}};
  };
  if (q->containers > 0 && used.containers + instances > q->containers)
    return refuse("you may have " + std::to_string(q->containers) + " containers and have " +
                  std::to_string(used.containers) + " (running or stopped); " +
                  std::to_string(instances) + " more would pass it");
  if (q->memory > 0 && memory <= 0)
    return refuse("your memory quota (" + bytes(q->memory) +
                  ") needs every container to have a memory limit");
  if (q->memory > 0 && used.memory + instances * memory > q->memory)
    return refuse("your memory quota is " + bytes(q->memory) + ", " + bytes(used.memory) +
                  " are used; " + bytes(instances * memory) + " more would pass it");
  return std::nullopt;
}

common::result<void> host_policy_book::check_service_quota(
    const std::string& owner, const std::string& service_id, std::int64_t replicas,
    std::int64_t memory, const container_index& containers) const {
  auto q = quota_of(owner);
  if (!q) return {};
  usage used{replicas, replicas * memory};
  for (const auto& [id, s] : registry_.services()) {
    if (id == service_id || s.value("owner", "") != owner) continue;
    const json spec = s.value("spec", json::object());
    used.containers += number(spec, "replicas", 1);
    used.memory += number(spec, "replicas", 1) * number(spec, "memory", 0);
  }
  for (const auto& c : containers.list("", owner))
    if (!parse_replica_request(c.value("request", ""))) {  // replicas are counted above
      ++used.containers;
      used.memory += number(c, "memory_limit", 0);
    }
  if (q->containers > 0 && used.containers > q->containers)
    return common::make_error(
        common::errc::forbidden,
        "quota: the owner may have " + std::to_string(q->containers) + " containers; its " +
            "services at their replica counts and its other containers would make " +
            std::to_string(used.containers));
  if (q->memory > 0 && (memory <= 0 && replicas > 0))
    return common::make_error(
        common::errc::forbidden,
        "quota: a memory quota (" + bytes(q->memory) + ") is set: the service needs spec.memory");
  if (q->memory > 0 && used.memory > q->memory)
    return common::make_error(common::errc::forbidden,
                              "quota: the owner's memory quota is " + bytes(q->memory) +
                                  "; replicas x memory of its services and its other "
                                  "containers would make " +
                                  bytes(used.memory));
  return {};
}

}  // namespace dockmesh::broker
