#include "agent/create_guard.hpp"

#include "agent/docker_calls.hpp"
#include "agent/docker_json.hpp"
#include "common/create_policy.hpp"

namespace dockmesh::agent {
namespace {

using common::errc;
using nlohmann::json;

common::error refusal(const std::string& field, const std::string& why) {
  return common::error{errc::forbidden, "field '" + field + "': " + why};
}

common::result<void> check_network_container(action_context& ctx, const std::string& ref) {
  auto c = get_json(ctx.docker, "/containers/" + escape_component(ref) + "/json");
  // Missing and another user's read the same, so the refusal tells nothing about other tenants.
  if (!c || !visible_to(ctx.request, field_of(field_of(*c, "Config"), "Labels")))
    return refusal("network_mode", "no container '" + excerpt(ref) +
                                       "' of yours to share a "
                                       "network namespace with");
  return {};
}

bool owned_volume(const action_context& ctx, const json& volume) {
  return visible_to(ctx.request, field_of(volume, "Labels"));
}

common::result<void> check_volume(action_context& ctx, const std::string& field,
                                  const std::string& name) {
  auto v = get_json(ctx.docker, "/volumes/" + escape_component(name));
  if (!v && v.err().code != errc::not_found) return v.err();
  if (!v) {
    json spec = {{"Name", name}, {"Labels", {{std::string(owner_label), ctx.request.user}}}};
    v = post_json(ctx.docker, "/volumes/create", spec);
    if (!v) return v.err();
  }
  if (!owned_volume(ctx, *v))
    return refusal(field, "volume '" + excerpt(name) + "' belongs to another user");
  return {};
}

}  // namespace

common::result<void> enforce_create_policy(action_context& ctx, const json& merged,
                                           const common::create_container_args& a) {
  if (ctx.request.is_admin()) return {};
  if (auto ok = common::check_forbidden_fields(ctx.request.body); !ok) return ok;
  if (auto ok = common::check_forbidden_fields(merged); !ok) return ok;
  auto refs = common::check_create(a, ctx.self.policy, ctx.request.role_kind());
  if (!refs) return refs.err();
  if (!refs->network_container.empty())
    if (auto ok = check_network_container(ctx, refs->network_container); !ok) return ok;
  for (const auto& [field, name] : refs->volumes)
    if (auto ok = check_volume(ctx, field, name); !ok) return ok;
  return {};
}

common::result<void> enforce_pull_policy(const action_context& ctx, std::string_view image) {
  return common::check_pull(image, ctx.self.policy, ctx.request.role_kind());
}

}  // namespace dockmesh::agent
