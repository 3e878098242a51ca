// docker_api's followers: logs (also --follow), wait and events. A follower polls the agent on a
// timer of the connection's strand (logs with Docker's timestamps, so that each poll sends only
// lines newer than the last one written) and stops when the container stops or the client leaves.
#include <ctime>

#include "common/protocol/names.hpp"
#include "ui-bridge/docker_api.hpp"
#include "ui-bridge/docker_api_translate.hpp"
#include "ui-bridge/json_fields.hpp"

namespace dockmesh::bridge {

using nlohmann::json;
namespace names = common::protocol::names;
using namespace std::chrono_literals;

namespace {

// 250 ms between polls: a followed line shows within about a quarter second, and a follower
// costs the agent four small requests a second.
constexpr auto follow_every = 250ms;

// The frames of the lines newer than (s, ns); moves (s, ns) to the newest written.
std::string frames_after(const std::vector<log_line>& lines, bool stamps, std::int64_t& s,
                         std::int64_t& ns) {
  std::string out;
  for (const auto& l : lines) {
    if (l.seconds < s || (l.seconds == s && l.nanos <= ns)) continue;
    out += log_frame(l.stream, stamps ? l.stamp + l.text : l.text);
    s = l.seconds;
    ns = l.nanos;
  }
  return out;
}

bool running_of(const json& inspect) {
  return inspect.is_object() && inspect.contains("State") && inspect["State"].is_object() &&
         inspect["State"].contains("Running") && inspect["State"]["Running"] == true;
}

}  // namespace

void docker_api::container_logs(const docker_call_ptr& call) {
  bool out = call->flag("stdout"), err = call->flag("stderr");
  if (!out && !err)
    return call->fail(http::status::bad_request, "you must choose at least one stream");
  json req = {{"action", names::container_logs},
              {"id", call->route.id},
              {"timestamps", true},
              {"stdout", out},
              {"stderr", err}};
  std::string tail = call->param("tail");
  if (!tail.empty() && tail != "all") {
    auto n = unix_seconds(tail);  // a plain count
    if (n < 0) return call->fail(http::status::bad_request, "tail: give a number or \"all\"");
    req["tail"] = n;
  }
  std::int64_t since = std::max<std::int64_t>(0, unix_seconds(call->param("since")));
  if (since > 0) req["since"] = since;
  send_ok(call, req, [this, call, req, since](const common::envelope& reply) {
    auto lines = merge_logs(reply.body);
    // Without lines the follower starts from now (a `--tail 0` must not replay older lines).
    std::int64_t s = since, ns = 0;
    if (lines.empty() && req.contains("tail")) s = std::time(nullptr);
    std::string bytes = frames_after(lines, call->flag("timestamps"), s, ns);
    if (!call->flag("follow")) {
      http_response res = docker_response(call->req, http::status::ok, nullptr);
      res.set(http::field::content_type, "application/vnd.docker.raw-stream");
      res.body() = std::move(bytes);
      res.prepare_payload();
      return call->respond(std::move(res));
    }
    call->begin_stream("application/vnd.docker.raw-stream");
    call->write(std::move(bytes));
    json next = req;
    next.erase("tail");
    follow_logs(call, next, s, ns);
  });
}

void docker_api::follow_logs(const docker_call_ptr& call, json request, std::int64_t last_s,
                             std::int64_t last_ns) {
  call->after(follow_every, [this, call, request, last_s, last_ns] {
    if (call->gone->load()) return;
    // State first, lines second: once it is seen stopped, the lines fetched after are the last.
    send(call, {{"action", names::inspect_container}, {"id", call->route.id}},
         [this, call, request, last_s, last_ns](common::result<common::envelope> state) mutable {
           if (!state || state->code >= 300) return call->end_stream();
           bool running = running_of(state->body);
           request["since"] = last_s;
           send(
               call, request,
               [this, call, request, last_s, last_ns, running](common::result<common::envelope> r) {
                 if (!r || r->code >= 300) return call->end_stream();
                 std::int64_t s = last_s, ns = last_ns;
                 call->write(frames_after(merge_logs(r->body), call->flag("timestamps"), s, ns));
                 if (!running) return call->end_stream();
                 follow_logs(call, request, s, ns);
               });
         });
  });
}

void docker_api::container_wait(const docker_call_ptr& call) {
  std::string condition = call->param("condition");
  if (!condition.empty() && condition != "not-running" && condition != "next-exit" &&
      condition != "removed")
    return call->fail(http::status::bad_request, "condition: not-running, next-exit or removed");
  bool until_removed = condition == "removed";
  if (recent_.find(call->who.user_id, call->route.id)) {
    // The caller created it moments ago, so it is theirs (if it is gone since, the first poll's
    // 404 ends the wait): the header goes out now, as dockerd's does. `docker run -d` waits for
    // this header between create and start; asking the agent first cost it one inspect round trip
    // (14-33 ms on the loaded 2-core machine).
    call->begin_stream("application/json");
    return call->after(follow_every,
                       [this, call, until_removed] { poll_wait(call, until_removed); });
  }
  send_ok(call, {{"action", names::inspect_container}, {"id", call->route.id}},
          [this, call, until_removed](const common::envelope&) {
            // Docker sends the header at once and the body when the wait ends.
            call->begin_stream("application/json");
            poll_wait(call, until_removed);
          });
}

void docker_api::poll_wait(const docker_call_ptr& call, bool until_removed) {
  send(call, {{"action", names::inspect_container}, {"id", call->route.id}},
       [this, call, until_removed](common::result<common::envelope> r) {
         if (call->gone->load()) return;
         if (!r || (r->code >= 300 && r->code != 404)) {
           std::string why = !r ? r.err().message : r->err ? r->err->message : "inspect failed";
           call->write(json{{"StatusCode", -1}, {"Error", {{"Message", why}}}}.dump() + "\n");
           return call->end_stream();
         }
         bool gone = r->code == 404;
         if (gone || (!until_removed && !running_of(r->body))) {
           const json& state =
               r->body.is_object() && r->body.contains("State") ? r->body["State"] : json();
           std::int64_t code = gone ? 0 : integer_of(state, "ExitCode");
           call->write(json{{"StatusCode", code}, {"Error", nullptr}}.dump() + "\n");
           return call->end_stream();
         }
         call->after(follow_every, [this, call, until_removed] { poll_wait(call, until_removed); });
       });
}

void docker_api::events(const docker_call_ptr& call) {
  auto filters = parse_docker_filters(call->param("filters"));
  if (!filters) return call->fail(filters.err());
  std::int64_t until = unix_seconds(call->param("until"));
  call->begin_stream("application/json");
  if (until >= 0 && until <= std::time(nullptr)) return call->end_stream();  // no history kept
  auto sub = s_.events.subscribe(
      call->who.user_id, call->who.is_admin(),
      [call, f = std::move(*filters)](std::shared_ptr<const std::string> text) {
        call->post([call, f, text] {
          auto j = json::parse(*text, nullptr, false);
          std::string topic = text_of(j, "topic");
          const std::string prefix = "evt/host/";
          if (text_of(j, "type") != "event" || topic.rfind(prefix, 0) != 0) return;
          std::string host = topic.substr(prefix.size(), topic.size() - prefix.size() - 1);
          auto e = docker_event(j["event"], host);
          if (e && event_passes(f, *e)) call->write(e->dump() + "\n");
        });
      });
  events_until(call, sub, until);
}

void docker_api::events_until(const docker_call_ptr& call, std::uint64_t sub, std::int64_t until) {
  call->after(500ms, [this, call, sub, until] {
    if (call->gone->load() || (until >= 0 && std::time(nullptr) >= until)) {
      s_.events.unsubscribe(sub);
      return call->end_stream();
    }
    events_until(call, sub, until);
  });
}

}  // namespace dockmesh::bridge
