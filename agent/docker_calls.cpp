#include "agent/docker_calls.hpp"

#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"

namespace dockmesh::agent {
namespace {

using common::errc;
using nlohmann::json;

result<json> parse_body(const docker_response& r, std::string_view what) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded())
    return common::make_error(errc::internal,
                              "Docker sent a body that is not JSON for " + std::string(what));
  return j;
}

}  // namespace

result<json> get_json(docker_transport& docker, const std::string& path) {
  auto r = docker.call({http_method::get, path, {}, {}, {}});
  if (!r) return r.err();
  return parse_body(*r, path);
}

result<json> post_json(docker_transport& docker, const std::string& path, const json& body,
                       std::chrono::milliseconds timeout) {
  auto r = docker.call({http_method::post, path, body.dump(), {}, timeout});
  if (!r) return r.err();
  if (r->body.empty()) return json::object();
  return parse_body(*r, path);
}

result<docker_response> post_empty(docker_transport& docker, const std::string& path,
                                   std::chrono::milliseconds timeout) {
  return docker.call({http_method::post, path, {}, {}, timeout});
}

common::result<void> check_owner(const action_request& request, const json& labels,
                                 std::string_view container) {
  if (request.is_admin()) return {};
  // Appended, not "'" + excerpt + "'": GCC 12 at -O3 reports a false -Wrestrict inside
  // std::string's operator+ for that form (a known false positive).
  std::string who = "'";
  who += excerpt(container);
  who += '\'';
  if (request.user.empty())
    return common::make_error(errc::forbidden, "the request carries no user; container " + who +
                                                   " is not yours to act on");
  const json* owner = nullptr;
  if (labels.is_object()) {
    auto it = labels.find(std::string(owner_label));
    if (it != labels.end() && it->is_string()) owner = &*it;
  }
  if (!owner)
    return common::make_error(errc::forbidden, "container " + who + " has no " +
                                                   std::string(owner_label) +
                                                   " label: only an admin may act on it");
  if (owner->get_ref<const std::string&>() != request.user)
    return common::make_error(errc::forbidden, "container " + who + " belongs to another user");
  return {};
}

bool visible_to(const action_request& request, const json& labels) {
  return check_owner(request, labels, "").ok();
}

result<json> load_owned_container(action_context& ctx, const std::string& id) {
  auto c = get_json(ctx.docker, "/containers/" + escape_component(id) + "/json");
  if (!c) return c.err();
  const json& labels = field_of(field_of(*c, "Config"), "Labels");
  if (auto ok = check_owner(ctx.request, labels, id); !ok) return ok.err();
  return c;
}

std::string filters_json(const json& filters) {
  return filters.dump();
}

json with_note(json body, int docker_status, std::string_view note) {
  if (docker_status == 304) body["note"] = std::string(note);
  return body;
}

}  // namespace dockmesh::agent
