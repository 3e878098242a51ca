// docker_api's image routes. Images live on every host separately: lists merge the hosts' images
// by id, inspect answers with the first host that has the image, and pull and remove go to every
// host that is up (targeted requests, one per host). A pull streams Docker's JSON progress lines:
// the agents' pull-progress events as they come, then one line per host with its result.
#include <set>

#include "common/protocol/names.hpp"
#include "ui-bridge/base64url.hpp"
#include "ui-bridge/docker_api.hpp"
#include "ui-bridge/docker_api_translate.hpp"
#include "ui-bridge/json_fields.hpp"

namespace dockmesh::bridge {

using nlohmann::json;
namespace names = common::protocol::names;

namespace {

std::string line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\r\n";
}

json error_line(const std::string& message) {
  return {{"errorDetail", {{"message", message}}}, {"error", message}};
}

// Docker's X-Registry-Auth (base64url JSON {username, password, serveraddress}) -> pull-image's
// `auth`, or null when absent or empty. The secret goes on to the agent only, never to a log.
json registry_auth(const http_request& req) {
  auto h = req.find("X-Registry-Auth");
  if (h == req.end()) return nullptr;
  std::string text(h->value());
  for (auto& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!text.empty() && text.back() == '=') text.pop_back();
  auto raw = base64url_decode(text);
  if (!raw) return nullptr;
  auto j = json::parse(*raw, nullptr, false);
  if (text_of(j, "username").empty()) return nullptr;
  json auth = {{"username", text_of(j, "username")}, {"password", text_of(j, "password")}};
  if (!text_of(j, "serveraddress").empty()) auth["server_address"] = text_of(j, "serveraddress");
  return auth;
}

// A pull-progress event of `image` as a Docker progress line ("<host>: <layer>").
std::optional<json> progress_line(const std::string& text, const std::string& image) {
  auto j = json::parse(text, nullptr, false);
  const json& env = j.is_object() && j.contains("event") ? j["event"] : json();
  if (text_of(env, "action") != "pull-progress") return std::nullopt;
  const json& b = env.contains("body") ? env["body"] : json();
  if (text_of(b, "image") != image) return std::nullopt;
  std::string host = text_of(env, "from");
  json out = {{"status", text_of(b, "status")}, {"id", host + " " + text_of(b, "layer")}};
  if (b.contains("total"))
    out["progressDetail"] = {{"current", integer_of(b, "current")},
                             {"total", integer_of(b, "total")}};
  return out;
}

}  // namespace

void docker_api::images_list(const docker_call_ptr& call) {
  fan_out(call, {{"action", names::list_images}}, [call](common::result<host_results> results) {
    if (!results) return call->fail(results.err());
    std::map<std::string, json> by_id;
    for (const auto& [host, r] : *results) {
      if (!r || r->code != 200) continue;
      for (const auto& e : list_at(r->body, "images")) {
        json img = docker_image_summary(e);
        auto [it, fresh] = by_id.emplace(text_of(img, "Id"), img);
        if (fresh) continue;
        for (const char* k : {"RepoTags", "RepoDigests"}) {  // union over the hosts
          std::set<std::string> seen;
          for (const auto& t : it->second[k])
            if (t.is_string()) seen.insert(t.get<std::string>());
          for (const auto& t : img[k])
            if (t.is_string() && !seen.count(t.get<std::string>())) it->second[k].push_back(t);
        }
      }
    }
    json out = json::array();
    for (auto& [_, img] : by_id) out.push_back(std::move(img));
    call->reply(http::status::ok, out);
  });
}

void docker_api::image_create(const docker_call_ptr& call) {
  std::string from = call->param("fromImage"), tag = call->param("tag");
  if (from.empty())
    return call->fail(http::status::not_implemented,
                      "POST /images/create without fromImage (import) is not implemented by the "
                      "dockmesh Docker endpoint");
  std::string ref = from;
  if (!tag.empty())
    ref += (tag.rfind("sha256:", 0) == 0 ? "@" : ":") + tag;
  else if (from.find('@') == std::string::npos &&
           from.find(':', from.rfind('/') + 1) == std::string::npos)
    ref += ":latest";
  json msg = {{"action", names::pull_image}, {"image", ref}};
  if (auto auth = registry_auth(call->req); !auth.is_null()) msg["auth"] = auth;
  call->begin_stream("application/json");
  call->write(line({{"status", "Pulling " + ref + " on every host that is up"}}));
  auto sub = s_.events.subscribe(call->who.user_id, call->who.is_admin(),
                                 [call, ref](std::shared_ptr<const std::string> text) {
                                   if (auto p = progress_line(*text, ref)) call->write(line(*p));
                                 });
  fan_out(call, msg, [this, call, ref, sub](common::result<host_results> results) {
    s_.events.unsubscribe(sub);
    if (!results) {
      call->write(line(error_line(results.err().message)));
      return call->end_stream();
    }
    std::string failure;
    for (const auto& [host, r] : *results) {
      if (r && r->code < 300) {
        call->write(line({{"status", host + ": " + text_of(r->body, "status", "pulled")}}));
      } else {
        std::string why = !r ? r.err().message : r->err ? r->err->message : "failed";
        if (failure.empty()) failure = host + ": " + why;
      }
    }
    if (results->empty()) failure = "no host is up";
    call->write(line(failure.empty()
                         ? json{{"status", "Status: pulled " + ref + " on " +
                                               std::to_string(results->size()) + " host(s)"}}
                         : error_line(failure)));
    call->end_stream();
  });
}

void docker_api::image_inspect(const docker_call_ptr& call) {
  std::string name = call->route.id;
  fan_out(call, {{"action", names::inspect_image}, {"image", name}},
          [call, name](common::result<host_results> results) {
            if (!results) return call->fail(results.err());
            for (const auto& [host, r] : *results)
              if (r && r->code == 200) return call->reply(http::status::ok, r->body);
            for (const auto& [host, r] : *results)
              if (r && r->code != 404 && r->code >= 300) return fail_with_reply(call, *r);
            call->fail(http::status::not_found, "No such image: " + name);
          });
}

void docker_api::image_remove(const docker_call_ptr& call) {
  std::string name = call->route.id;
  json msg = {{"action", names::remove_image},
              {"image", name},
              {"force", call->flag("force")},
              {"noprune", call->flag("noprune")}};
  fan_out(call, msg, [call, name](common::result<host_results> results) {
    if (!results) return call->fail(results.err());
    json out = json::array();
    for (const auto& [host, r] : *results) {
      if (!r) return call->fail(r.err());
      if (r->code >= 300 && r->code != 404) return fail_with_reply(call, *r);
      if (r->code >= 300) continue;
      for (const auto& t : list_at(r->body, "untagged")) out.push_back({{"Untagged", t}});
      for (const auto& d : list_at(r->body, "deleted")) out.push_back({{"Deleted", d}});
    }
    if (out.empty()) return call->fail(http::status::not_found, "No such image: " + name);
    call->reply(http::status::ok, out);
  });
}

}  // namespace dockmesh::bridge
