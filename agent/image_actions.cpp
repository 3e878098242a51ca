// list-images, inspect-image, pull-image, remove-image. Images are shared by every user of a host:
// anyone may list, inspect and pull; removing one is for admins.
#include "agent/action_handlers.hpp"
#include "agent/create_guard.hpp"
#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"
#include "agent/pull_progress.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {
namespace {

using common::errc;
using nlohmann::json;

common::result<void> check_reference_filter(const std::string& f) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("._-/:@*").find(c) != std::string_view::npos;
  };
  if (f.size() > 255 || !std::all_of(f.begin(), f.end(), ok_char))
    return common::make_error(errc::invalid_argument, "field 'reference': '" + excerpt(f) +
                                                          "' is not an image reference pattern");
  return {};
}

json image_entry(const json& i) {
  return {{"id", str_of(i, "Id")},
          {"tags", array_of(i, "RepoTags")},
          {"digests", array_of(i, "RepoDigests")},
          {"size", int_of(i, "Size")},
          {"created", int_of(i, "Created")}};
}

}  // namespace

action_reply handle_list_images(action_context& ctx) {
  auto a = common::parse_list_images_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  query_string q;
  q.add_flag("all", a->all);
  if (!a->reference.empty()) {
    if (auto ok = check_reference_filter(a->reference); !ok) return error_reply(ok.err());
    q.add("filters", json{{"reference", {a->reference}}}.dump());
  }
  auto list = get_json(ctx.docker, "/images/json" + q.str());
  if (!list) return error_reply(list.err());
  json out = json::array();
  if (list->is_array())
    for (const auto& i : *list) out.push_back(image_entry(i));
  return ok_reply({{"host", ctx.self.fqdn}, {"images", out}});
}

action_reply handle_inspect_image(action_context& ctx) {
  auto a = common::parse_image_ref_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_image_ref("image", a->image); !ok) return error_reply(ok.err());
  auto i = get_json(ctx.docker, "/images/" + escape_component(a->image) + "/json");
  if (!i) return error_reply(i.err());
  return ok_reply(std::move(*i));
}

action_reply handle_remove_image(action_context& ctx) {
  auto a = common::parse_remove_image_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_image_ref("image", a->image); !ok) return error_reply(ok.err());
  if (!ctx.request.is_admin())
    return error_reply(
        {errc::forbidden,
         "images are shared by every user of the host: removing one needs the admin role"});
  query_string q;
  q.add_flag("force", a->force).add_flag("noprune", a->noprune);
  auto r = ctx.docker.call({http_method::del,
                            "/images/" + escape_component(a->image) + q.str(),
                            {},
                            {},
                            std::chrono::seconds(120)});
  if (!r) return error_reply(r.err());
  auto j = json::parse(r->body, nullptr, false);
  json untagged = json::array(), deleted = json::array();
  if (j.is_array())
    for (const auto& e : j) {
      if (field_of(e, "Untagged").is_string()) untagged.push_back(field_of(e, "Untagged"));
      if (field_of(e, "Deleted").is_string()) deleted.push_back(field_of(e, "Deleted"));
    }
  return ok_reply({{"image", a->image}, {"untagged", untagged}, {"deleted", deleted}});
}

action_reply handle_pull_image(action_context& ctx) {
  auto a = common::parse_pull_image_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_image_ref("image", a->image); !ok) return error_reply(ok.err());
  if (auto ok = enforce_pull_policy(ctx, a->image); !ok) return error_reply(ok.err());
  image_name name = split_image_name(a->image);
  docker_request req{
      http_method::post,
      "/images/create" +
          query_string().add("fromImage", name.repository).add("tag", name.tag).str(),
      {},
      {},
      {}};
  if (a->auth) req.headers.push_back("X-Registry-Auth: " + registry_auth_header(*a->auth));
  pull_progress progress(ctx.request.id, name.reference(), ctx.progress);
  auto r = ctx.docker.stream(req, [&](std::string_view piece) { return progress.feed(piece); });
  if (!r) {
    common::error e = r.err();
    // Docker reports registry trouble before the stream starts as a bare 500: classify it.
    if (e.code == errc::internal) e.code = pull_error_code(e.message);
    return error_reply(std::move(e));
  }
  if (auto failed = progress.failure()) return error_reply(*failed);
  auto image = get_json(ctx.docker, "/images/" + escape_component(name.reference()) + "/json");
  if (!image) return error_reply(image.err());
  return ok_reply({{"image", name.reference()},
                   {"id", str_of(*image, "Id")},
                   {"repo_digests", array_of(*image, "RepoDigests")},
                   {"size", int_of(*image, "Size")},
                   {"status", progress.last_status()},
                   {"progress_events", progress.events_sent()}});
}

}  // namespace dockmesh::agent
