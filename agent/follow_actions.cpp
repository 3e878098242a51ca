// follow-logs, follow-stats: the stream openers (docs/streams.md). Each runs on a stream thread
// of its own (stream_table), checks the container as every container action does (grammar, then
// ownership: another user's container answers like a missing one), opens the stream, then copies
// Docker's follow stream into stream-data messages. ctx.stream.send() blocks while the reader's
// credit is used up, and while it blocks nothing reads dockerd's socket: the back-pressure goes
// all the way to dockerd. The handler returns when Docker's stream ends (container stopped) or the
// stream is cancelled (reader's cancel, lease expired, agent stopping).
#include <string>

#include "agent/action_handlers.hpp"
#include "agent/container_stats.hpp"
#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"
#include "agent/log_demux.hpp"
#include "agent/stream_channel.hpp"
#include "common/stream_args.hpp"

namespace dockmesh::agent {
namespace {

using common::errc;
using nlohmann::json;

std::string follow_query(const common::container_logs_args& a) {
  query_string q;
  q.add_flag("follow", true);
  q.add_flag("stdout", a.include_stdout).add_flag("stderr", a.include_stderr);
  q.add("tail", a.tail < 0 ? std::string("all") : std::to_string(a.tail));
  if (a.since > 0) q.add("since", std::to_string(a.since));
  q.add_flag("timestamps", a.timestamps);
  return q.str();
}

// The end of a follow: cancelled streams and Docker's end of stream are normal ends.
action_reply ended(stream_channel& out, const result<docker_response>& r) {
  if (out.gate().cancelled() || r.ok()) return ok_reply(json::object());
  return error_reply(r.err());
}

}  // namespace

action_reply handle_follow_logs(action_context& ctx) {
  if (!ctx.stream) return error_reply({errc::internal, "follow-logs needs a stream"});
  auto a = common::parse_follow_logs_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_container_ref("id", a->logs.id); !ok) return error_reply(ok.err());
  if (!a->logs.include_stdout && !a->logs.include_stderr)
    return error_reply(
        {errc::invalid_argument, "fields 'stdout' and 'stderr' are both false: nothing to follow"});
  auto c = load_owned_container(ctx, a->logs.id);
  if (!c) return error_reply(c.err());
  bool tty = bool_of(field_of(*c, "Config"), "Tty");
  std::string id = str_of(*c, "Id", a->logs.id);
  stream_channel& out = *ctx.stream;
  if (!out.open({{"id", id}, {"tty", tty}})) return ok_reply(json::object());
  log_demux demux;
  auto sink = [&](std::string_view piece) {
    if (tty) return out.send_text("stdout", piece);
    if (!demux.feed(piece)) return false;
    return out.send_text("stdout", demux.take_out()) && out.send_text("stderr", demux.take_err());
  };
  std::string path = "/containers/" + escape_component(id) + "/logs" + follow_query(a->logs);
  auto r = ctx.docker.stream({http_method::get, path, {}, {}, {}}, sink);
  return ended(out, r);
}

action_reply handle_follow_stats(action_context& ctx) {
  if (!ctx.stream) return error_reply({errc::internal, "follow-stats needs a stream"});
  auto a = common::parse_follow_stats_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_container_ref("id", a->id); !ok) return error_reply(ok.err());
  auto c = load_owned_container(ctx, a->id);
  if (!c) return error_reply(c.err());
  std::string id = str_of(*c, "Id", a->id);
  stream_channel& out = *ctx.stream;
  if (!out.open({{"id", id}})) return ok_reply(json::object());
  std::string buffer;
  auto sink = [&](std::string_view piece) {
    buffer.append(piece);
    if (buffer.size() > 1024 * 1024) return false;  // no line that long is Docker's
    for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
      auto doc = json::parse(std::string_view(buffer).substr(0, nl), nullptr, false);
      buffer.erase(0, nl + 1);
      if (!doc.is_object()) continue;
      json sample = summarize_stats(doc);
      sample["time"] = common::now_ms();
      if (!out.send({{"sample", std::move(sample)}}, 0)) return false;
    }
    return true;
  };
  std::string path = "/containers/" + escape_component(id) + "/stats?stream=1";
  auto r = ctx.docker.stream({http_method::get, path, {}, {}, {}}, sink);
  return ended(out, r);
}

}  // namespace dockmesh::agent
