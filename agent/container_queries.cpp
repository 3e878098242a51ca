// list-containers, inspect-container, container-logs: reading containers without changing them.
#include "agent/action_handlers.hpp"
#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"
#include "agent/log_demux.hpp"
#include "common/action_args.hpp"

namespace dockmesh::agent {
namespace {

using common::errc;
using nlohmann::json;

constexpr std::size_t max_log_bytes = 1024 * 1024;  // per stream; the newest bytes are kept

common::result<json> list_filters(const action_request& req,
                                  const common::list_containers_args& a) {
  json filters = json::object();
  if (!a.label.empty()) {
    auto eq = a.label.find('=');
    if (auto k = check_label_key("label", a.label.substr(0, eq)); !k) return k.err();
    if (eq != std::string::npos)
      if (auto v = check_label_value("label", a.label.substr(eq + 1)); !v) return v.err();
    filters["label"].push_back(a.label);
  }
  if (!a.name.empty()) {
    if (auto n = check_container_ref("name", a.name); !n) return n.err();
    filters["name"].push_back(a.name);
  }
  if (!a.status.empty()) {
    static const char* statuses[] = {"created", "restarting", "running", "removing",
                                     "paused",  "exited",     "dead"};
    if (std::find(std::begin(statuses), std::end(statuses), a.status) == std::end(statuses))
      return common::make_error(errc::invalid_argument,
                                "field 'status': '" + excerpt(a.status) +
                                    "' is not one of created, restarting, running, removing, "
                                    "paused, exited, dead");
    filters["status"].push_back(a.status);
  }
  // Docker filters for us, so a user's list never even carries other users' containers.
  if (!req.is_admin()) filters["label"].push_back(std::string(owner_label) + "=" + req.user);
  return filters;
}

json list_entry(const json& c, const std::string& fqdn) {
  json labels = object_of(c, "Labels");
  return {{"id", str_of(c, "Id")},
          {"name", container_name_of(c)},
          {"image", str_of(c, "Image")},
          {"image_id", str_of(c, "ImageID")},
          {"command", str_of(c, "Command")},
          {"created", int_of(c, "Created")},
          {"state", str_of(c, "State")},
          {"status", str_of(c, "Status")},
          {"owner", str_of(labels, owner_label)},
          {"labels", labels},
          {"host", fqdn}};
}

}  // namespace

action_reply handle_list_containers(action_context& ctx) {
  auto a = common::parse_list_containers_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (!ctx.request.is_admin() && ctx.request.user.empty())
    return error_reply({errc::forbidden, "the request carries no user to list containers for"});
  auto filters = list_filters(ctx.request, *a);
  if (!filters) return error_reply(filters.err());
  query_string q;
  q.add_flag("all", a->all);
  if (!filters->empty()) q.add("filters", filters_json(*filters));
  auto list = get_json(ctx.docker, "/containers/json" + q.str());
  if (!list) return error_reply(list.err());
  json out = json::array();
  if (list->is_array())
    for (const auto& c : *list)
      if (c.is_object() &&
          visible_to(ctx.request, field_of(c, "Labels")))  // belt and braces over the filter
        out.push_back(list_entry(c, ctx.self.fqdn));
  return ok_reply({{"host", ctx.self.fqdn}, {"containers", out}});
}

action_reply handle_inspect_container(action_context& ctx) {
  auto a = common::parse_container_ref_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_container_ref("id", a->id); !ok) return error_reply(ok.err());
  auto c = load_owned_container(ctx, a->id);
  if (!c) return error_reply(c.err());
  return ok_reply(std::move(*c));
}

namespace {

std::string logs_query(const common::container_logs_args& a) {
  query_string q;
  q.add_flag("stdout", a.include_stdout).add_flag("stderr", a.include_stderr);
  q.add("tail", a.tail < 0 ? std::string("all") : std::to_string(a.tail));
  if (a.since > 0) q.add("since", std::to_string(a.since));
  q.add_flag("timestamps", a.timestamps);
  return q.str();
}

// Reads the log stream into the reply body: demultiplexed, or raw for a TTY container.
result<json> read_logs(action_context& ctx, const std::string& id, bool tty,
                       const std::string& query) {
  log_demux demux(max_log_bytes);
  std::string raw;
  std::optional<common::error> broken;
  auto sink = [&](std::string_view piece) {
    if (!tty) {
      auto fed = demux.feed(piece);
      if (!fed) broken = fed.err();
      return fed.ok();
    }
    raw.append(piece);
    if (raw.size() > 2 * max_log_bytes) raw.erase(0, raw.size() - max_log_bytes);
    return true;
  };
  std::string path = "/containers/" + escape_component(id) + "/logs" + query;
  auto r = ctx.docker.stream({http_method::get, path, {}, {}, std::chrono::seconds(60)}, sink);
  if (!r) return r.err();
  if (broken)
    return common::error{errc::internal, "Docker's log stream was malformed: " + broken->message};
  demux.finish();
  bool truncated = demux.truncated() || raw.size() > max_log_bytes;
  if (raw.size() > max_log_bytes) raw.erase(0, raw.size() - max_log_bytes);
  json body = {{"id", id},
               {"tty", tty},
               {"stdout", to_valid_utf8(tty ? raw : demux.out())},
               {"stderr", to_valid_utf8(demux.err())},
               {"truncated", truncated},
               {"incomplete", demux.incomplete()}};
  if (!demux.daemon_error().empty()) body["daemon_error"] = to_valid_utf8(demux.daemon_error());
  return body;
}

}  // namespace

action_reply handle_container_logs(action_context& ctx) {
  auto a = common::parse_container_logs_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_container_ref("id", a->id); !ok) return error_reply(ok.err());
  if (!a->include_stdout && !a->include_stderr)
    return error_reply(
        {errc::invalid_argument, "fields 'stdout' and 'stderr' are both false: nothing to read"});
  auto c = load_owned_container(ctx, a->id);
  if (!c) return error_reply(c.err());
  bool tty = bool_of(field_of(*c, "Config"), "Tty");
  auto body = read_logs(ctx, str_of(*c, "Id", a->id), tty, logs_query(*a));
  if (!body) return error_reply(body.err());
  return ok_reply(std::move(*body));
}

}  // namespace dockmesh::agent
