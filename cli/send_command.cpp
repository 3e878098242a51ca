// `dockmeshctl send`: plan the request (send_plan), ask the directory for the host when the
// message names only a container, then one bus_request (or bus_collect for --all) and print the
// reply envelope(s) as JSON.
#include <algorithm>
#include <iostream>
#include <iterator>

#include "cli/ctl_commands.hpp"
#include "cli/send_plan.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::cli {
namespace {

using json = nlohmann::json;

int code_of(exit_code c) {
  return static_cast<int>(c);
}
bool is_success(int code) {
  return code >= 200 && code < 300;
}

std::string read_message(const ctl_context& ctx) {
  const std::string& word = ctx.cl.words.at(0);
  if (word != "-") return word;
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

}  // namespace

int resolve_by_directory(const ctl_context& ctx, common::control_client& control, send_plan& plan) {
  auto reply = control.call(std::string(common::protocol::names::container),
                            json{{"ref", plan.lookup_ref}}, ctx.left());
  if (!reply) {
    auto code = reply.err().code == common::errc::timeout ? exit_code::usage_or_timeout
                                                          : exit_code::error_reply;
    return ctx.fail(code, "cannot ask the directory where '" + plan.lookup_ref +
                              "' runs: " + reply.err().message);
  }
  if (!is_success(reply->code)) {
    ctx.out << common::to_json(*reply).dump(2) << "\n";
    std::string why = reply->err ? reply->err->message : "no message";
    return ctx.fail(exit_code::error_reply, "container '" + plan.lookup_ref + "': " + why);
  }
  std::string host = reply->body.is_object() ? reply->body.value("host", std::string()) : "";
  auto r = resolve_host(plan, host);
  if (!r)
    return ctx.fail(exit_code::error_reply,
                    "the directory gave no usable host: " + r.err().message);
  return code_of(exit_code::ok);
}

namespace {

// How many replies --all should wait for: the hosts the directory has up (0 = until timeout).
std::size_t hosts_up(const ctl_context& ctx, common::control_client& control) {
  auto reply = control.call(std::string(common::protocol::names::hosts), json{{"status", "up"}},
                            ctx.left() / 2);
  if (!reply || !is_success(reply->code) || !reply->body.is_object()) return 0;
  auto hosts = reply->body.find("hosts");
  return hosts != reply->body.end() && hosts->is_array() ? hosts->size() : 0;
}

int broadcast(const ctl_context& ctx, common::bus_client& bus, send_plan& plan,
              std::size_t expected) {
  auto replies = common::bus_collect(bus, plan.topic, plan.request, ctx.left(), expected);
  if (replies.empty()) return ctx.fail(exit_code::usage_or_timeout, "no host answered in time");
  std::sort(replies.begin(), replies.end(),
            [](const auto& a, const auto& b) { return a.from < b.from; });
  json out = json::array();
  bool all_ok = true;
  for (const auto& r : replies) {
    out.push_back(common::to_json(r));
    all_ok = all_ok && is_success(r.code);
  }
  ctx.out << out.dump(2) << "\n";
  if (expected && replies.size() < expected)
    ctx.err << "dockmeshctl: " << replies.size() << " of " << expected << " hosts answered\n";
  return code_of(all_ok ? exit_code::ok : exit_code::error_reply);
}

int send_planned(const ctl_context& ctx, send_plan& plan) {
  zmq::context_t zctx;
  auto bus_options = ctx.bus_options();
  common::control_client control(zctx, bus_options);
  if (plan.route == send_route::lookup) {
    int rc = resolve_by_directory(ctx, control, plan);
    if (rc != code_of(exit_code::ok)) return rc;
  }
  std::size_t expected = plan.route == send_route::all ? hosts_up(ctx, control) : 0;

  common::bus_client bus(zctx, bus_options);
  if (!bus.wait_ready(ctx.left())) {
    auto why = bus.handshake_failure();
    return ctx.fail(exit_code::usage_or_timeout,
                    why.empty() ? "the bus did not come up in time (is the broker running, and "
                                  "is this key accepted?)"
                                : why);
  }
  if (plan.route == send_route::all) return broadcast(ctx, bus, plan, expected);

  auto reply = common::bus_request(bus, plan.topic, plan.request, ctx.left());
  if (!reply) {
    auto code = reply.err().code == common::errc::timeout ? exit_code::usage_or_timeout
                                                          : exit_code::error_reply;
    return ctx.fail(code, reply.err().message + " on " + plan.topic);
  }
  ctx.out << common::to_json(*reply).dump(2) << "\n";
  if (is_success(reply->code)) return code_of(exit_code::ok);
  std::string why = reply->err ? reply->err->message : "no message";
  return ctx.fail(exit_code::error_reply, std::to_string(reply->code) + ": " + why);
}

}  // namespace

int run_send(const ctl_context& ctx) {
  send_options options;
  options.host = ctx.cl.value("host");
  options.all = ctx.cl.has("all");
  options.user = ctx.user();
  auto plan = plan_send(read_message(ctx), options);
  if (!plan) return ctx.fail(exit_code::usage_or_timeout, plan.err().message);
  if (ctx.vm.count("request-id")) {
    auto id = common::request_id_from_key(options.user, ctx.vm["request-id"].as<std::string>());
    if (!id) return ctx.fail(exit_code::usage_or_timeout, "--request-id: " + id.err().message);
    plan->request.id = *id;
  }
  ctl_context waiting = ctx;
  if (ctx.vm["timeout"].defaulted() && plan->min_wait > ctx.timeout())
    waiting.deadline = std::chrono::steady_clock::now() + plan->min_wait;
  return send_planned(waiting, *plan);
}

}  // namespace dockmesh::cli
