// `dockmeshctl logs CONTAINER [-f] [--tail N]`, `dockmeshctl stats CONTAINER [--count N]` and
// `dockmeshctl exec [-i] [-t] CONTAINER CMD...`. Without -f, logs is one container-logs request.
// With -f, stats and exec open a stream (docs/streams.md): the command finds the container's host
// in the directory, sends the opener, then prints stream-data as it comes and grants credit back
// once it has written it out, so a reader that pipes into a slow consumer slows the agent down
// instead of growing anyone's buffers. exec -i also sends stdin as stream-input (raw terminal
// with -t, and stream-resize on SIGWINCH). Ends on stream-end, Ctrl-C (the stream is cancelled;
// for exec -t, Ctrl-C goes to the command instead), --count, a closed stdout, or the directory's
// host-down for the stream's host (its agent died: a quiet stream would otherwise wait forever).
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <ctime>
#include <functional>
#include <optional>

#include "cli/ctl_commands.hpp"
#include "cli/send_plan.hpp"
#include "common/bus_identity.hpp"
#include "common/protocol/names.hpp"
#include "common/stream_reader.hpp"
#include "common/topic.hpp"

namespace dockmesh::cli {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
namespace names = common::protocol::names;

int code_of(exit_code c) {
  return static_cast<int>(c);
}

// Prints one piece; false when stdout is gone or --count was reached.
using piece_printer = std::function<bool(const json& body)>;

struct stream_options {
  int input_fd = -1;         // exec -i: stdin goes to the stream
  bool resizable = false;    // exec -t on a terminal: SIGWINCH sends stream-resize
  bool close_input = false;  // exec without -i: the command reads end of file at once
};

// The opener sent, its reply, and the stream's pieces that overtook it (another broker).
struct opened_stream {
  std::string topic;
  common::envelope reply;
  std::vector<common::bus_message> early;
};

common::result<opened_stream> open_stream(const ctl_context& ctx, common::bus_client& bus,
                                          send_plan& plan) {
  auto& req = plan.request;
  req.id = common::new_message_id();
  req.from = bus.client_id();
  req.reply_to = bus.reply_topic();
  req.deadline = common::now_ms() + ctx.left().count();
  opened_stream out{plan.topic, {}, {}};
  auto next_send = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < ctx.deadline) {
    if (std::chrono::steady_clock::now() >= next_send) {
      if (auto r = bus.publish(plan.topic, req); !r) return r.err();
      ++req.attempt;  // a retry keeps the id: the agent answers it once
      next_send += milliseconds(1000);
    }
    auto m = bus.receive(milliseconds(50));
    if (!m) continue;
    bool piece = m->env.action == names::stream_data || m->env.action == names::stream_end;
    if (!piece && m->env.re == req.id &&
        common::reply_stamp_accepted(plan.topic, m->sender, m->env)) {
      out.reply = std::move(m->env);
      return out;
    }
    if (piece) out.early.push_back(std::move(*m));
  }
  return common::make_error(common::errc::timeout, "no answer from the container's host in time");
}

// An open stream, read until it ends. Main thread only.
class stream_session {
 public:
  stream_session(const ctl_context& ctx, common::bus_client& bus, opened_stream opened,
                 std::int64_t window, const piece_printer& print)
      : ctx_(ctx),
        bus_(bus),
        opened_(std::move(opened)),
        reader_(opened_.reply.body.value("stream", std::string()),
                opened_.reply.body.value("host", std::string()), window,
                std::chrono::steady_clock::now()),
        print_(print) {}

  int run(const sigset_t& signals, const stream_options& io);

 private:
  std::optional<int> handle(const common::bus_message& m);  // an exit code once it ended
  void publish(common::envelope e) { (void)bus_.publish(opened_.topic, e); }
  void send(std::string_view action, json body) {
    auto e = reader_.credit_message(0, bus_.client_id());
    e.action = action;
    e.body = std::move(body);
    e.body["stream"] = reader_.stream();
    publish(std::move(e));
  }
  void read_input(int fd);
  void send_size();

  const ctl_context& ctx_;
  common::bus_client& bus_;
  opened_stream opened_;
  common::stream_reader reader_;
  const piece_printer& print_;
  bool input_open_ = true;
};

std::optional<int> stream_session::handle(const common::bus_message& m) {
  if (m.topic == common::topic_dir()) {
    if (m.env.action != names::host_down || !m.env.body.is_object() ||
        m.env.body.value("fqdn", std::string()) != reader_.host())
      return std::nullopt;
    return ctx_.fail(exit_code::error_reply,
                     "the stream ended: host " + reader_.host() + " is down (host down)");
  }
  switch (reader_.accept(m)) {
    case common::stream_input::not_mine:
    case common::stream_input::duplicate:
      return std::nullopt;
    case common::stream_input::end: {
      const json& b = m.env.body;
      if (b.value("code", 500) != 200)
        return ctx_.fail(exit_code::error_reply,
                         "the stream ended: " + b.value("message", std::string("error")));
      if (b.contains("exit_code") && b["exit_code"] != 0) {
        ctx_.err << "dockmeshctl: the command exited with " << b["exit_code"].dump() << "\n";
        return code_of(exit_code::error_reply);
      }
      return code_of(exit_code::ok);
    }
    case common::stream_input::data:
      break;
  }
  auto data = m.env.body.find("data");
  std::size_t bytes = data != m.env.body.end() && data->is_string()
                          ? data->get_ref<const std::string&>().size()
                          : 0;
  if (!print_(m.env.body)) {
    publish(reader_.cancel_message(bus_.client_id()));
    return code_of(exit_code::ok);
  }
  reader_.consumed(bytes);
  return std::nullopt;
}

void stream_session::read_input(int fd) {
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0)
    return send(names::stream_input, {{"data", std::string(buf, static_cast<std::size_t>(n))}});
  input_open_ = false;  // end of input: the command reads end of file
  send(names::stream_input, {{"eof", true}});
}

void stream_session::send_size() {
  winsize ws{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0)
    send(names::stream_resize, {{"cols", ws.ws_col}, {"rows", ws.ws_row}});
}

int stream_session::run(const sigset_t& signals, const stream_options& io) {
  if (io.close_input) send(names::stream_input, {{"eof", true}});
  for (const auto& m : opened_.early)
    if (auto rc = handle(m)) return *rc;
  for (;;) {
    timespec zero{0, 0};
    int sig = sigtimedwait(&signals, nullptr, &zero);
    if (sig == SIGWINCH) {
      if (io.resizable) send_size();
    } else if (sig > 0) {
      break;
    }
    if (auto grant = reader_.due(std::chrono::steady_clock::now()))
      publish(reader_.credit_message(*grant, bus_.client_id()));
    bool watch_input = io.input_fd >= 0 && input_open_;
    zmq::pollitem_t items[] = {{bus_.sub_socket().handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, io.input_fd, ZMQ_POLLIN, 0}};
    zmq::poll(items, watch_input ? 2 : 1, milliseconds(200));
    // A pipe at end of file polls as POLLHUP, which zmq_poll reports as ZMQ_POLLERR.
    if (watch_input && (items[1].revents & (ZMQ_POLLIN | ZMQ_POLLERR))) read_input(io.input_fd);
    while (auto m = bus_.try_receive())
      if (auto rc = handle(*m)) return *rc;
  }
  publish(reader_.cancel_message(bus_.client_id()));
  return code_of(exit_code::ok);
}

// The terminal in raw mode for exec -t (keys go to the command as typed); restored on exit.
class raw_terminal {
 public:
  raw_terminal() {
    if (!::isatty(STDIN_FILENO) || ::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~raw_terminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  bool active() const { return active_; }

 private:
  termios saved_{};
  bool active_ = false;
};

int follow(const ctl_context& ctx, json message, const piece_printer& print, bool exec = false,
           bool interactive = false, bool tty = false) {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGWINCH}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto plan = plan_send(message.dump(), send_options{{}, false, ctx.user()});
  if (!plan) return ctx.fail(exit_code::usage_or_timeout, plan.err().message);
  zmq::context_t zctx;
  auto bus_options = ctx.bus_options();
  common::control_client control(zctx, bus_options);
  if (int rc = resolve_by_directory(ctx, control, *plan); rc != code_of(exit_code::ok)) return rc;
  common::bus_client bus(zctx, bus_options);
  bus.subscribe(common::topic_dir());  // host-down ends the stream (docs/streams.md)
  if (!bus.wait_ready(ctx.left()))
    return ctx.fail(exit_code::usage_or_timeout, "the bus did not come up in time");
  auto opened = open_stream(ctx, bus, *plan);
  if (!opened) return ctx.fail(exit_code::usage_or_timeout, opened.err().message);
  if (opened->reply.code != 200) {
    std::string why = opened->reply.err ? opened->reply.err->message : "no message";
    return ctx.fail(exit_code::error_reply, std::to_string(opened->reply.code) + ": " + why);
  }
  std::int64_t window = plan->request.body.value("credit", common::default_stream_credit);
  stream_session session(ctx, bus, std::move(*opened), window, print);
  std::optional<raw_terminal> raw;
  if (tty && interactive) raw.emplace();
  stream_options io{interactive ? STDIN_FILENO : -1, raw && raw->active(), exec && !interactive};
  return session.run(signals, io);
}

}  // namespace

int run_logs(const ctl_context& ctx) {
  json message = {{"id", ctx.cl.words.at(0)}};
  if (ctx.cl.has("tail")) {
    try {
      message["tail"] = std::stoll(ctx.cl.value("tail"));
    } catch (const std::exception&) {
      message["tail"] = ctx.cl.value("tail");  // "all", or a mistake the schema names
    }
  }
  if (!ctx.cl.has("follow")) {
    message["action"] = names::container_logs;  // one request, printed as `send` prints it
    command_line once = ctx.cl;
    once.words = {message.dump()};
    return run_send(ctl_context{once, ctx.vm, ctx.out, ctx.err, ctx.deadline});
  }
  message["action"] = names::follow_logs;
  return follow(ctx, message, [&](const json& body) {
    std::ostream& to = body.value("channel", std::string()) == "stderr" ? ctx.err : ctx.out;
    to << body.value("data", std::string()) << std::flush;
    return static_cast<bool>(ctx.out);
  });
}

int run_stats(const ctl_context& ctx) {
  long count = count_option(ctx);
  if (count < 0) return ctx.fail(exit_code::usage_or_timeout, "--count must be a positive number");
  json message = {{"action", names::follow_stats}, {"id", ctx.cl.words.at(0)}};
  long printed = 0;
  return follow(ctx, message, [&](const json& body) {
    ctx.out << body.value("sample", json::object()).dump() << std::endl;
    return static_cast<bool>(ctx.out) && !(count && ++printed >= count);
  });
}

int run_exec(const ctl_context& ctx) {
  bool tty = ctx.cl.has("tty");
  std::vector<std::string> cmd(ctx.cl.words.begin() + 1, ctx.cl.words.end());
  json message = {
      {"action", names::exec_start}, {"id", ctx.cl.words.at(0)}, {"cmd", cmd}, {"tty", tty}};
  winsize ws{};
  if (tty && ::isatty(STDIN_FILENO) && ::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 &&
      ws.ws_col > 0 && ws.ws_row > 0) {
    message["cols"] = ws.ws_col;
    message["rows"] = ws.ws_row;
  }
  return follow(
      ctx, message,
      [&](const json& body) {
        std::ostream& to = body.value("channel", std::string()) == "stderr" ? ctx.err : ctx.out;
        to << body.value("data", std::string()) << std::flush;
        return static_cast<bool>(ctx.out);
      },
      true, ctx.cl.has("interactive"), tty);
}

}  // namespace dockmesh::cli
