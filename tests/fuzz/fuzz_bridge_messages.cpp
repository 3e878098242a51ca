// Fuzz target: the bridge's checking of a client's JSON message (ui-bridge/message_plan.hpp) —
// what `POST /api/v1/messages` and the WebSocket accept — against the real schemas/*.json.
// Input: a role byte, then the message as JSON text. Properties: nothing throws; a refusal has a
// UTF-8 message; an accepted message never broadcasts, never lets a non-admin use an admin-only
// action, always carries the caller's user and role in its envelope (never the message's), and
// — the schemas being the protocol's single source of truth — its body is accepted by the
// agent's own argument parser (common/action_args.hpp) for that action.
#include <cstdint>
#include <string>

#include "common/action_args.hpp"
#include "common/protocol/names.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "ui-bridge/message_plan.hpp"
#include "ui-bridge/schema_registry.hpp"

namespace dm_names = dockmesh::common::protocol::names;

using namespace dockmesh::bridge;
using namespace dockmesh::common;
namespace fuzz = dockmesh::fuzz;

namespace {

const schema_registry& schemas() {
  static const schema_registry s = schema_registry::load_dir(DOCKMESH_FUZZ_SCHEMAS_DIR);
  return s;
}

// The agent's verdict on the body of `action` (nullopt for actions it does not parse here).
std::optional<error> agent_refusal(const std::string& action, const nlohmann::json& b) {
  auto verdict = [](const auto& r) -> std::optional<error> {
    if (r.ok()) return std::nullopt;
    return r.err();
  };
  if (action == dm_names::ping || action == dm_names::host_info || action == dm_names::disk_usage)
    return verdict(parse_empty_args(b));
  if (action == dm_names::list_containers) return verdict(parse_list_containers_args(b));
  if (action == dm_names::inspect_container || action == dm_names::start_container ||
      action == dm_names::container_stats)
    return verdict(parse_container_ref_args(b));
  if (action == dm_names::stop_container || action == dm_names::restart_container)
    return verdict(parse_stop_container_args(b));
  if (action == dm_names::kill_container) return verdict(parse_kill_container_args(b));
  if (action == dm_names::remove_container || action == dm_names::delete_container)
    return verdict(parse_remove_container_args(b));
  if (action == dm_names::container_logs) return verdict(parse_container_logs_args(b));
  if (action == dm_names::create_container) return verdict(parse_create_container_args(b));
  if (action == dm_names::list_images) return verdict(parse_list_images_args(b));
  if (action == dm_names::inspect_image) return verdict(parse_image_ref_args(b));
  if (action == dm_names::pull_image) return verdict(parse_pull_image_args(b));
  if (action == dm_names::remove_image) return verdict(parse_remove_image_args(b));
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::byte_reader in(data, size);
  principal who;
  who.user = "alice";
  who.user_id = "u0123456789abcdef0123456789abcdef";
  who.role = in.byte() % 2 ? user_role::admin : user_role::user;
  auto message = nlohmann::json::parse(in.rest(), nullptr, false);
  if (message.is_discarded()) return 0;
  try {
    auto plan = plan_message(message, schemas(), who);
    if (!plan.ok()) {
      FUZZ_CHECK(!plan.err().message.empty(), "refusal without a message");
      FUZZ_CHECK(fuzz::dumps_as_json(plan.err().message), "refusal message is not UTF-8");
      return 0;
    }
    FUZZ_CHECK(!plan->rule.admin_only || who.is_admin(), "admin-only action planned for a user");
    envelope env = make_request(who, *plan);
    FUZZ_CHECK(env.user == who.user_id, "envelope user is not the caller's id");
    FUZZ_CHECK(env.role == (who.is_admin() ? "admin" : "user"),
               "envelope role is not the caller's");
    FUZZ_CHECK(env.action == plan->action, "envelope action differs from the plan");
    auto back = decode(encode(env));
    FUZZ_CHECK(back.ok() || env.id.empty(),
               "planned request does not encode: " + back.err().message);
    if (auto refused = agent_refusal(plan->action, plan->body))
      FUZZ_CHECK(false, "bridge accepted a " + plan->action + " body the agent refuses: " +
                            refused->message + " body=" + plan->body.dump());
  } catch (const std::exception& ex) {
    FUZZ_CHECK(false, std::string("message planning threw: ") + ex.what());
  }
  return 0;
}
