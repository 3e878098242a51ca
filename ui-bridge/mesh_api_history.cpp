// The stats history routes of mesh_api (stats_history.hpp, stats_sampler.hpp): the samples the
// bridge keeps, answered from memory once ownership (containers) or the role (hosts) is checked.
#include <optional>
#include <string>

#include "common/envelope.hpp"
#include "common/protocol/names.hpp"
#include "ui-bridge/mesh_api.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
using nlohmann::json;

namespace {

// ?since=MS (unix ms; default 0: everything kept), or nullopt with a 400 sent.
std::optional<std::int64_t> since_of(const api_call_ptr& call) {
  auto it = call->query.find("since");
  if (it == call->query.end() || it->second.empty()) return 0;
  const std::string& v = it->second;
  bool digits = v.size() <= 18 && v.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) {
    call->fail(make_error(errc::invalid_argument, "since must be a time in unix milliseconds"));
    return std::nullopt;
  }
  return std::stoll(v);
}

json history_body(const stats_history& h, const std::string& key, std::int64_t since) {
  json samples = json::array();
  for (const auto& s : h.since(key, since)) samples.push_back(to_json(s));
  const auto& l = h.limits();
  return {{"samples", samples},
          {"window_s", l.window.count() / 1000},
          {"step_s", l.fine_step.count() / 1000},
          {"coarse_step_s", l.coarse_step.count() / 1000}};
}

bool history_on(const api_call_ptr& call, const stats_history* h) {
  if (h) return true;
  call->fail(
      make_error(errc::unavailable, "stats history is off on this bridge (--stats-history 0)"));
  return false;
}

}  // namespace

void mesh_api::container_stats_history(api_call_ptr call) {
  auto since = since_of(call);
  if (!since || !history_on(call, s_.container_stats)) return;
  const stats_history* h = s_.container_stats;
  // The directory's record decides: another user's container answers exactly like a missing one.
  s_.gateway.resolve_container(call->who, call->params["id"],
                               on_strand(call, [call, h, since](common::result<json> c) {
                                 if (!c) return call->fail(c.err());
                                 std::string id = c->value("id", std::string());
                                 json body = history_body(*h, id, *since);
                                 body["id"] = id;
                                 body["name"] = c->value("name", std::string());
                                 body["host"] = c->value("host", std::string());
                                 call->reply(http::status::ok, body);
                               }));
}

void mesh_api::host_stats_history(api_call_ptr call) {
  if (!call->who.is_admin())
    return call->fail(make_error(errc::forbidden, "only admins may read a host's usage history"));
  auto since = since_of(call);
  if (!since || !history_on(call, s_.host_stats)) return;
  const stats_history* h = s_.host_stats;
  std::string fqdn = call->params["fqdn"];
  s_.gateway.control(std::string(common::protocol::names::host), {{"fqdn", fqdn}},
                     on_strand(call, [call, h, since, fqdn](common::result<common::envelope> r) {
                       if (!r) return call->fail(r.err());
                       if (r->code != 200) return call->relay(*r);
                       json body = history_body(*h, fqdn, *since);
                       body["host"] = fqdn;
                       call->reply(http::status::ok, body);
                     }));
}

}  // namespace dockmesh::bridge
