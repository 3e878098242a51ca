// `dockmeshctl watch [PREFIX]`: subscribe to PREFIX (everything by default) and print each bus
// message as one JSON line {"topic": ..., "envelope": {...}} until SIGINT/SIGTERM or --count.
// SIGINT and SIGTERM are blocked before the ZeroMQ context exists (so its threads inherit the
// mask and no zmq call is interrupted) and polled with sigtimedwait between receives.
#include <signal.h>

#include <cerrno>
#include <ctime>

#include "cli/ctl_commands.hpp"
#include "common/topic.hpp"

namespace dockmesh::cli {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

int code_of(exit_code c) {
  return static_cast<int>(c);
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

bool stop_requested(const sigset_t& set) {
  timespec zero{0, 0};
  return sigtimedwait(&set, nullptr, &zero) > 0;
}

}  // namespace

// --count N: stop after N messages (0 = never).
long count_option(const ctl_context& ctx) {
  if (!ctx.cl.has("count")) return 0;
  try {
    std::size_t used = 0;
    long n = std::stol(ctx.cl.value("count"), &used);
    if (used == ctx.cl.value("count").size() && n > 0) return n;
  } catch (const std::exception&) {
  }
  return -1;
}

int run_watch(const ctl_context& ctx) {
  long count = count_option(ctx);
  if (count < 0) return ctx.fail(exit_code::usage_or_timeout, "--count must be a positive number");
  std::string prefix = ctx.cl.words.empty() ? std::string() : ctx.cl.words[0];

  sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  zmq::context_t zctx;
  common::bus_client bus(zctx, ctx.bus_options());
  bus.subscribe(prefix);
  if (!bus.wait_ready(ctx.timeout()))
    return ctx.fail(
        exit_code::usage_or_timeout,
        "the bus did not come up in time (is the broker running, and is this key accepted?)");
  ctx.err << "dockmeshctl: watching '" << prefix << "' (Ctrl-C to stop)" << std::endl;

  long printed = 0;
  while (!stop_requested(signals)) {
    auto m = bus.receive(milliseconds(100));
    if (!m) continue;
    // Our own reply topic is an implementation detail of this client, not bus traffic to show.
    if (m->topic == bus.reply_topic()) continue;
    // sender: the broker's stamp, the identity that published it (not the envelope's claim).
    json line{{"topic", m->topic}, {"sender", m->sender}, {"envelope", common::to_json(m->env)}};
    ctx.out << line.dump() << std::endl;
    if (!ctx.out) break;  // stdout closed (e.g. piped into head)
    if (count && ++printed >= count) break;
  }
  return code_of(exit_code::ok);
}

}  // namespace dockmesh::cli
