// exec-start: an interactive exec session as a stream (docs/streams.md, "Exec"). Refused unless
// the host's agent runs with --allow-exec (off by default: a shell in a container is more power
// than any other action gives). Then the container is checked like every container action
// (grammar, owner: another user's container answers like a missing one; it must be running), an
// exec is created, and its hijacked connection (exec_socket) is pumped both ways on this stream
// thread: output becomes stream-data under the reader's credit, the reader's stream-input and
// stream-resize arrive through the stream's gate. Ends when the process exits (stream-end carries
// its exit code), or when the stream is cancelled. The broker's audit log records the start
// (who, container) and the end.
#include <poll.h>

#include <chrono>
#include <optional>
#include <thread>

#include "agent/action_handlers.hpp"
#include "agent/docker_calls.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"
#include "agent/endpoint_allowlist.hpp"
#include "agent/exec_socket.hpp"
#include "agent/log_demux.hpp"
#include "agent/stream_channel.hpp"
#include "common/protocol/names.hpp"
#include "common/stream_args.hpp"

namespace dockmesh::agent {
namespace {

using common::errc;
using nlohmann::json;

bool is_exec_id(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

void resize(action_context& ctx, const std::string& exec_id, int cols, int rows) {
  // A failed resize (the process just exited) changes nothing worth reporting.
  (void)post_empty(ctx.docker, "/exec/" + exec_id + "/resize?h=" + std::to_string(rows) +
                                   "&w=" + std::to_string(cols));
}

// Moves bytes both ways until the process ends or the stream is cancelled.
void pump(action_context& ctx, exec_socket& sock, const std::string& exec_id, bool tty) {
  stream_channel& out = *ctx.stream;
  log_demux demux;
  auto emit = [&](std::string_view raw) {
    if (tty) return out.send_text("stdout", raw);
    if (!demux.feed(raw)) return false;
    return out.send_text("stdout", demux.take_out()) && out.send_text("stderr", demux.take_err());
  };
  if (!emit(sock.take_early())) return;
  for (;;) {
    pollfd fds[2] = {{sock.fd(), POLLIN, 0}, {out.gate().wake_fd(), POLLIN, 0}};
    ::poll(fds, 2, 1000);
    if (out.gate().cancelled()) return;
    if (fds[1].revents & POLLIN) {
      auto in = out.gate().take_input();
      if (!in.bytes.empty() && !sock.write_all(in.bytes)) return;
      if (in.resize) resize(ctx, exec_id, in.resize->first, in.resize->second);
      if (in.eof) sock.close_input();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      auto r = sock.read_some();
      if (!r || r->empty() || !emit(*r)) return;
    }
  }
}

// The command's exit code once dockerd has noticed it exited: with a TTY the connection can close
// a moment before (seen: ExitCode still null), so ask a few times, 50 ms apart, 1 s at most.
std::optional<std::int64_t> exit_code(action_context& ctx, const std::string& exec_id) {
  for (int i = 0; i < 20; ++i) {
    auto info = get_json(ctx.docker, "/exec/" + exec_id + "/json");
    if (!info) return std::nullopt;
    if (!bool_of(*info, "Running") && field_of(*info, "ExitCode").is_number_integer())
      return field_of(*info, "ExitCode").get<std::int64_t>();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

}  // namespace

action_reply handle_exec_start(action_context& ctx) {
  if (!ctx.stream) return error_reply({errc::internal, "exec-start needs a stream"});
  if (!ctx.self.allow_exec)
    return error_reply({errc::forbidden, "exec is disabled on host " + ctx.self.fqdn +
                                             " (its agent runs without --allow-exec)"});
  auto a = common::parse_exec_start_args(ctx.request.body);
  if (!a) return error_reply(a.err());
  if (auto ok = check_container_ref("id", a->id); !ok) return error_reply(ok.err());
  auto c = load_owned_container(ctx, a->id);
  if (!c) return error_reply(c.err());
  std::string id = str_of(*c, "Id", a->id);
  if (!bool_of(field_of(*c, "State"), "Running"))
    return error_reply({errc::conflict, "container " + a->id + " is not running"});
  json spec = {{"AttachStdin", true},
               {"AttachStdout", true},
               {"AttachStderr", true},
               {"Tty", a->tty},
               {"Cmd", a->cmd}};
  auto created = post_json(ctx.docker, "/containers/" + escape_component(id) + "/exec", spec);
  if (!created) return error_reply(created.err());
  std::string exec_id = str_of(*created, "Id");
  std::string start_path = "/exec/" + exec_id + "/start";
  // The hijacked start does not go through the transport: check it against the same table.
  if (!is_exec_id(exec_id) ||
      !endpoint_allowed(common::protocol::names::exec_start, http_method::post, start_path))
    return error_reply({errc::internal, "dockerd answered the exec create with no usable id"});
  auto sock =
      exec_socket::start(ctx.stream->docker_socket(), ctx.stream->api_version(), exec_id, a->tty);
  if (!sock) return error_reply(sock.err());
  if (!ctx.stream->open({{"id", id}, {"exec", exec_id}, {"tty", a->tty}}))
    return ok_reply(json::object());
  if (a->tty && a->cols > 0 && a->rows > 0) resize(ctx, exec_id, a->cols, a->rows);
  pump(ctx, *sock, exec_id, a->tty);
  json body = json::object();
  if (!ctx.stream->gate().cancelled())
    if (auto code = exit_code(ctx, exec_id)) body["exit_code"] = *code;
  return ok_reply(std::move(body));
}

}  // namespace dockmesh::agent
