// pool_command: `dockmeshctl hosts pool|cordon|uncordon|drain|undrain|policies ...`,
// `dockmeshctl quota list|set ...` and `dockmeshctl teams list|set|delete ...`: one host-policy,
// quota or team control call (docs/services.md, "Host pools", "Teams", "Quotas", "Drain and
// cordon"), printed like the directory commands. The CLI's key is an admin key, which these
// calls need to set anything. Main thread only.
#include <stdexcept>

#include "cli/ctl_commands.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::cli {
namespace {

using json = nlohmann::json;
namespace names = common::protocol::names;

long long number_of(const std::string& text, const char* what, long long high) {
  std::size_t used = 0;
  long long n = -1;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
  }
  if (n < 0 || n > high || used != text.size())
    throw std::invalid_argument(std::string(what) + " must be a number from 0 to " +
                                std::to_string(high));
  return n;
}

void need_words(const command_line& cl, std::size_t n, const char* usage) {
  if (cl.words.size() != n) throw std::invalid_argument(std::string("usage: dockmeshctl ") + usage);
}

std::pair<std::string, json> hosts_call(const command_line& cl) {
  const std::string& verb = cl.words[0];
  if (verb == "policies") {
    need_words(cl, 1, "hosts policies");
    return {std::string(names::host_policy_list), json::object()};
  }
  if (verb == "pool") {
    need_words(cl, 3, "hosts pool FQDN USER_ID|team:NAME|shared");
    return {std::string(names::host_policy_set), {{"fqdn", cl.words[1]}, {"pool", cl.words[2]}}};
  }
  need_words(cl, 2, "hosts cordon|uncordon|drain|undrain FQDN");
  json body = {{"fqdn", cl.words[1]}};
  if (verb == "cordon" || verb == "uncordon") {
    body["cordoned"] = verb == "cordon";
  } else if (verb == "undrain") {
    body["draining"] = false;
  } else if (verb == "drain") {
    body["draining"] = true;
    if (cl.has("batch")) body["batch"] = number_of(cl.value("batch"), "--batch", 1000);
    if (cl.has("deadline"))
      body["deadline_s"] = number_of(cl.value("deadline"), "--deadline", 604800);
    body["all"] = cl.has("all");
  } else {
    throw std::invalid_argument("hosts: pool, cordon, uncordon, drain, undrain or policies");
  }
  return {std::string(names::host_policy_set), body};
}

std::pair<std::string, json> quota_call(const command_line& cl) {
  const std::string& verb = cl.words[0];
  if (verb == "list") {
    json body = json::object();
    if (cl.words.size() == 2) body["user"] = cl.words[1];
    return {std::string(names::quota_list), body};
  }
  if (verb != "set") throw std::invalid_argument("quota: list [USER_ID] or set USER_ID ...");
  need_words(cl, 2, "quota set USER_ID [--containers N] [--memory BYTES]");
  json body = {{"user", cl.words[1]}};
  if (cl.has("containers"))
    body["containers"] = number_of(cl.value("containers"), "--containers", 1000000);
  if (cl.has("memory")) body["memory"] = number_of(cl.value("memory"), "--memory", 1LL << 50);
  return {std::string(names::quota_set), body};
}

std::pair<std::string, json> teams_call(const command_line& cl) {
  const std::string& verb = cl.words[0];
  if (verb == "list") {
    need_words(cl, 1, "teams list");
    return {std::string(names::team_list), json::object()};
  }
  if (verb == "delete") {
    need_words(cl, 2, "teams delete NAME");
    return {std::string(names::team_delete), {{"name", cl.words[1]}}};
  }
  if (verb != "set") throw std::invalid_argument("teams: list, set NAME USER_ID... or delete NAME");
  // No member at all is allowed: a team that owns hosts but admits nobody yet.
  if (cl.words.size() < 2)
    throw std::invalid_argument("usage: dockmeshctl teams set NAME USER_ID...");
  json members = json::array();
  for (std::size_t i = 2; i < cl.words.size(); ++i) members.push_back(cl.words[i]);
  return {std::string(names::team_set), {{"name", cl.words[1]}, {"members", members}}};
}

}  // namespace

int run_pool_command(const ctl_context& ctx) {
  std::pair<std::string, json> call;
  try {
    call = ctx.cl.command == "quota"   ? quota_call(ctx.cl)
           : ctx.cl.command == "teams" ? teams_call(ctx.cl)
                                       : hosts_call(ctx.cl);
  } catch (const std::invalid_argument& e) {
    return ctx.fail(exit_code::usage_or_timeout, e.what());
  }
  zmq::context_t zctx;
  common::control_client control(zctx, ctx.bus_options());
  return print_control_call(ctx, control, call.first, std::move(call.second));
}

}  // namespace dockmesh::cli
