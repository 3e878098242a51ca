// `dockmeshctl status` and `dockmeshctl keys list`: both ask every configured broker on its own
// (one control_client per broker, one after the other, sharing the command's deadline), because
// their point is to show where brokers differ: which one leads and at which epoch, whether each
// reaches etcd, and on which brokers each key is active.
#include <map>

#include "cli/ctl_commands.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::cli {
namespace {

using json = nlohmann::json;

struct broker_answer {
  std::string address;
  common::result<common::envelope> reply;
};

std::vector<broker_answer> ask_each(const ctl_context& ctx, std::string_view action) {
  auto all = ctx.bus_options();
  std::vector<broker_answer> out;
  zmq::context_t zctx;
  // Each broker gets an equal share of what is left, so one that is down cannot eat it all.
  auto share = ctx.left() / static_cast<long>(std::max<std::size_t>(all.brokers.size(), 1));
  for (const auto& b : all.brokers) {
    auto one = all;
    one.brokers = {b};
    common::control_client control(zctx, one);
    out.push_back({b.host + ":" + std::to_string(b.port),
                   control.call(std::string(action), json::object(),
                                std::max(share, std::chrono::milliseconds(1)))});
  }
  return out;
}

json broker_status(const broker_answer& a) {
  json b = {{"address", a.address}, {"reachable", a.reply.ok()}};
  if (!a.reply) {
    b["error"] = a.reply.err().message;
    return b;
  }
  if (a.reply->code != 200) {
    b["error"] = a.reply->err ? a.reply->err->message : "refused";
    return b;
  }
  const json& s = a.reply->body;
  b["broker_id"] = s.value("broker_id", 0);
  b["hosts"] = s.value("hosts", 0);
  if (s.contains("ha")) b["ha"] = s["ha"];
  return b;
}

}  // namespace

int run_status(const ctl_context& ctx) {
  json brokers = json::array();
  std::string leader;
  std::int64_t epoch = 0;
  for (const auto& a : ask_each(ctx, common::protocol::names::stats)) {
    json b = broker_status(a);
    if (b.contains("ha") && b["ha"].value("epoch", std::int64_t{0}) >= epoch) {
      epoch = b["ha"].value("epoch", std::int64_t{0});
      leader = b["ha"].value("leader_id", "");
    }
    brokers.push_back(std::move(b));
  }
  bool any = false;
  for (const auto& b : brokers) any = any || b.value("reachable", false);
  ctx.out << json{{"brokers", brokers}, {"leader", leader}, {"epoch", epoch}}.dump(2) << "\n";
  return any ? 0 : ctx.fail(exit_code::error_reply, "no broker answered");
}

int run_keys_list(const ctl_context& ctx) {
  std::map<std::string, json> keys;  // public key -> record + where it is active
  bool any = false;
  for (const auto& a : ask_each(ctx, common::protocol::names::keys_list)) {
    if (!a.reply || a.reply->code != 200) continue;
    any = true;
    std::string at = a.reply->from.empty() ? a.address : a.reply->from;
    for (const auto& k : a.reply->body.value("keys", json::array())) {
      auto& entry = keys.try_emplace(k.value("public_key", ""), k).first->second;
      if (!entry.contains("active_on")) entry["active_on"] = json::array();
      if (!entry.contains("state_at")) entry["state_at"] = json::object();
      entry["state_at"][at] = k.value("state", "");
      if (k.value("state", "") == "accepted") entry["active_on"].push_back(at);
    }
  }
  if (!any) return ctx.fail(exit_code::error_reply, "no broker answered keys-list");
  json list = json::array();
  for (auto& [pk, e] : keys) list.push_back(std::move(e));
  ctx.out << json{{"keys", list}}.dump(2) << "\n";
  return 0;
}

}  // namespace dockmesh::cli
