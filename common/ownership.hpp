// ownership: the one home of the ownership rule, used by the bridge (before it sends a targeted
// request), the agent (again, before it acts) and the bridge's event fan-out. Owners are immutable
// user ids ("u" + 32 hex digits, issued once by the bridge's user store and never re-used), never
// names: a removed user's containers then belong to nobody a principal can be, so they are
// admin-only, and a re-created user of the same name gets a new id and no access. A label that is
// not a user id (containers made before ids, labelled with a name) matches no principal: it is
// admin-only too, and listed as orphaned. Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace dockmesh::common {

enum class role { user, admin };
std::string_view to_string(role r);
// "admin" and "user"; nullopt for anything else.
std::optional<role> parse_role(std::string_view s);
// The role an envelope's `role` string grants: admin only when it says exactly "admin".
role role_of_envelope(std::string_view s);

// The Docker label (containers and volumes) that holds the owner's user id.
inline constexpr std::string_view owner_label = "dockmesh.owner";

// "u" followed by 32 lower-case hex digits (128 random bits).
bool is_user_id(std::string_view s);

struct principal_ref {
  role r = role::user;
  std::string_view user_id;  // empty: the request carries no user
};

// May `who` act on something whose owner label is `owner` (empty: no label)? Admins may act on
// anything; users only on what carries exactly their own user id.
bool may_act(const principal_ref& who, std::string_view owner);

// A pool owned by a team of users is "team:<name>" (docs/services.md, "Teams").
inline constexpr std::string_view team_pool_prefix = "team:";
// The team a pool names ("team:ops" -> "ops"); "" for the shared pool and a user's.
std::string_view team_of_pool(std::string_view pool);

// The host pool rule (docs/services.md, "Host pools"): a host of `pool` ("" = the shared pool,
// a user's id, or "team:<name>") takes placements for admins, and for users on the shared pool,
// their own and those of the teams they are in (`teams`: the names of the teams that list the
// user). The scheduler, the reconciler, the broker's targeted check and the bridge's image
// distribution all ask this.
bool pool_admits(std::string_view pool, std::string_view user_id, bool admin,
                 const std::vector<std::string>& teams);

// The refusal for a container that is missing *or* not the caller's: the same code and the same
// message either way, so that the answer tells nothing about other tenants.
error no_such_container(std::string_view ref);

}  // namespace dockmesh::common
