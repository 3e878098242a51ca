#include "cli/ctl_commands.hpp"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "common/bus_identity.hpp"
#include "common/config.hpp"
#include "common/curve_keys.hpp"
#include "common/envelope.hpp"
#include "common/protocol/catalogue.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::cli {
namespace {

namespace po = boost::program_options;
using json = nlohmann::json;
namespace names = common::protocol::names;
using std::chrono::milliseconds;

int code_of(exit_code c) {
  return static_cast<int>(c);
}

// --since: unix milliseconds, or a duration ago ("90s", "15m", "2h", "7d").
std::int64_t parse_since(const std::string& s, std::int64_t now_ms) {
  std::size_t used = 0;
  long long n = -1;
  try {
    n = std::stoll(s, &used);
  } catch (const std::exception&) {
  }
  if (n < 0)
    throw std::invalid_argument("--since must be unix milliseconds or a duration like 15m");
  if (used == s.size()) return n;
  static const std::pair<char, std::int64_t> units[] = {
      {'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
  if (used + 1 == s.size())
    for (auto [u, ms] : units)
      if (s[used] == u) return now_ms - n * ms;
  throw std::invalid_argument("--since must be unix milliseconds or a duration like 15m");
}

json audit_body(const command_line& cl) {
  json body = json::object();
  if (cl.has("since")) body["since"] = parse_since(cl.value("since"), common::now_ms());
  if (cl.has("user")) body["user"] = cl.value("user");
  if (cl.has("limit")) {
    std::size_t used = 0;
    long n = 0;
    try {
      n = std::stol(cl.value("limit"), &used);
    } catch (const std::exception&) {
    }
    if (n < 1 || n > 1000 || used != cl.value("limit").size())
      throw std::invalid_argument("--limit must be 1..1000");
    body["limit"] = n;
  }
  return body;
}

// The control action and body for `keys ...`.
std::pair<std::string, json> keys_call(const command_line& cl) {
  const std::string& verb = cl.words[0];
  if (verb == "list") return {std::string(names::keys_list), json::object()};
  if (verb == "token") {
    long ttl = 0;
    try {
      std::size_t used = 0;
      ttl = std::stol(cl.value("ttl"), &used);
      if (used != cl.value("ttl").size()) ttl = 0;
    } catch (const std::exception&) {
      ttl = 0;
    }
    if (ttl <= 0) throw std::invalid_argument("--ttl must be a positive number of seconds");
    return {std::string(names::token_create), json{{"ttl_seconds", ttl}}};
  }
  // keys accept|reject|revoke KEY [--role R] [--name N]
  std::string_view action = verb == "accept"   ? names::keys_accept
                            : verb == "reject" ? names::keys_reject
                                               : names::keys_revoke;
  json body = {{"key", cl.words[1]}};
  if (verb == "accept" && cl.has("role")) body["role"] = cl.value("role");
  if (verb == "accept" && cl.has("name")) body["name"] = cl.value("name");
  return {std::string(action), body};
}

}  // namespace

void add_ctl_options(po::options_description& options) {
  common::add_bus_client_options(options);
  options.add_options()("timeout", po::value<long>()->default_value(10000),
                        "milliseconds to wait for the bus, the directory and replies")(
      "user", po::value<std::string>()->default_value("admin"),
      "user name put in requests (the CLI always acts with role admin)")(
      "request-id", po::value<std::string>(),
      "your idempotency key for `send`: the same key (and --user) gives the same bus request id, "
      "so re-running a create after a timeout never makes a second container");
}

milliseconds ctl_context::timeout() const {
  return milliseconds(vm["timeout"].as<long>());
}

milliseconds ctl_context::left() const {
  auto l = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max(l, milliseconds(1));
}

std::string ctl_context::user() const {
  return vm["user"].as<std::string>();
}

common::bus_client_options ctl_context::bus_options() const {
  // ctl-<random>_<our key>: our reply topic, unique per invocation and bound to our key, so the
  // broker lets no one else read it (common/bus_identity.hpp).
  auto o = common::bus_client_options_from(vm, {});
  auto id = common::key_bound_client_id("ctl-" + common::new_message_id().substr(0, 12),
                                        o.keys.public_key);
  if (!id) throw std::runtime_error("cannot build a client id: " + id.err().message);
  o.client_id = std::move(*id);
  return o;
}

int ctl_context::fail(exit_code code, const std::string& message) const {
  err << "dockmeshctl: " << message << "\n";
  return code_of(code);
}

int run_command(const command_line& cl, const po::variables_map& vm, std::ostream& out,
                std::ostream& err) {
  if (vm["timeout"].as<long>() <= 0) {
    err << "dockmeshctl: --timeout must be a positive number of milliseconds\n";
    return code_of(exit_code::usage_or_timeout);
  }
  ctl_context ctx{cl, vm, out, err,
                  std::chrono::steady_clock::now() + milliseconds(vm["timeout"].as<long>())};
  if (cl.command == "keygen") return run_keygen(ctx);
  if (cl.command == "send") return run_send(ctx);
  if (cl.command == "watch") return run_watch(ctx);
  if (cl.command == "logs") return run_logs(ctx);
  if (cl.command == "stats") return run_stats(ctx);
  if (cl.command == "exec") return run_exec(ctx);
  if (cl.command == "status") return run_status(ctx);
  if (cl.command == "projects" || cl.command == "services") return run_service_command(ctx);
  if ((cl.command == "hosts" && !cl.words.empty()) || cl.command == "quota" ||
      cl.command == "teams")
    return run_pool_command(ctx);
  if (cl.command == "catalogue") {
    out << common::protocol::to_json(common::protocol::catalogue::builtin()).dump(2) << "\n";
    return code_of(exit_code::ok);
  }
  if (cl.command == "keys" && !cl.words.empty() && cl.words[0] == "list") return run_keys_list(ctx);
  return run_directory_command(ctx);
}

int run_keygen(const ctl_context& ctx) {
  std::string path = ctx.cl.value("out");
  if (path.empty()) return ctx.fail(exit_code::usage_or_timeout, "keygen needs --out FILE");
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !ctx.cl.has("force"))
    return ctx.fail(exit_code::usage_or_timeout, path + " exists; remove it or add --force");
  gid_t group = static_cast<gid_t>(-1);
  if (ctx.cl.has("group")) {
    const struct group* g = ::getgrnam(ctx.cl.value("group").c_str());
    if (!g)
      return ctx.fail(exit_code::usage_or_timeout,
                      "no group named '" + ctx.cl.value("group") + "'");
    group = g->gr_gid;
  }
  auto keys = common::generate_keypair();
  common::save_keypair(path, keys);  // 0600 first: the secret is never readable more widely
  if (group != static_cast<gid_t>(-1) &&
      (::chown(path.c_str(), static_cast<uid_t>(-1), group) != 0 ||
       ::chmod(path.c_str(), 0640) != 0))
    return ctx.fail(exit_code::usage_or_timeout,
                    "cannot give " + path + " to group " + ctx.cl.value("group"));
  ctx.out << keys.public_key << "\n";
  return code_of(exit_code::ok);
}

int print_control_call(const ctl_context& ctx, common::control_client& control,
                       const std::string& action, json body) {
  auto reply = control.call(action, std::move(body), ctx.left());
  if (!reply) {
    auto code = reply.err().code == common::errc::timeout ? exit_code::usage_or_timeout
                                                          : exit_code::error_reply;
    return ctx.fail(code,
                    reply.err().message + " (is the broker running, and is this key accepted?)");
  }
  if (reply->code >= 200 && reply->code < 300) {
    ctx.out << (reply->body.is_null() ? json::object() : reply->body).dump(2) << "\n";
    return code_of(exit_code::ok);
  }
  ctx.out << common::to_json(*reply).dump(2) << "\n";
  std::string why = reply->err ? reply->err->message : "no message";
  return ctx.fail(exit_code::error_reply,
                  "'" + action + "' failed with " + std::to_string(reply->code) + ": " + why);
}

int run_directory_command(const ctl_context& ctx) {
  const command_line& cl = ctx.cl;
  std::string action;
  json body = json::object();
  if (cl.command == "hosts") {
    action = names::hosts;
    if (cl.has("status")) body["status"] = cl.value("status");
    if (cl.has("label")) body["label"] = cl.value("label");
  } else if (cl.command == "containers") {
    action = names::containers;
    if (cl.has("host")) body["host"] = cl.value("host");
    if (cl.has("owner")) body["owner"] = cl.value("owner");
  } else if (cl.command == "audit") {
    action = std::string(names::audit);
    try {
      body = audit_body(cl);
    } catch (const std::invalid_argument& e) {
      return ctx.fail(exit_code::usage_or_timeout, e.what());
    }
  } else if (cl.command == "keys") {
    try {
      std::tie(action, body) = keys_call(cl);
    } catch (const std::invalid_argument& e) {
      return ctx.fail(exit_code::usage_or_timeout, e.what());
    }
  } else {
    return ctx.fail(exit_code::usage_or_timeout, "unknown command '" + cl.command + "'");
  }
  zmq::context_t zctx;
  common::control_client control(zctx, ctx.bus_options());
  return print_control_call(ctx, control, action, std::move(body));
}

}  // namespace dockmesh::cli
