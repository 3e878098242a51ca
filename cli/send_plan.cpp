#include "cli/send_plan.hpp"

#include "common/topic.hpp"

namespace dockmesh::cli {
namespace {

using common::errc;
using common::make_error;
using json = nlohmann::json;

namespace protocol = common::protocol;
using protocol::message_target;

common::result<json> parse_message(std::string_view text) {
  json msg = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded())
    return make_error(errc::malformed,
                      "the message is not valid JSON: " + std::string(text.substr(0, 80)));
  if (!msg.is_object())
    return make_error(
        errc::invalid_argument,
        "the message must be a JSON object like {\"action\":\"ping\",\"host\":\"...\"}");
  auto action = msg.find("action");
  if (action == msg.end() || !action->is_string() || action->get<std::string>().empty())
    return make_error(errc::invalid_argument, "the message needs an \"action\" string");
  auto host = msg.find("host");
  if (host != msg.end() && !host->is_string())
    return make_error(errc::invalid_argument, "\"host\" must be a string (an agent's fqdn)");
  return msg;
}

// The host named by --host or by the message; both may be given only if they agree.
common::result<std::string> pick_host(const json& msg, const send_options& options) {
  std::string in_message = msg.value("host", std::string());
  if (!options.host.empty() && !in_message.empty() && options.host != in_message)
    return make_error(
        errc::invalid_argument,
        "--host " + options.host + " and the message's \"host\": \"" + in_message + "\" disagree");
  return options.host.empty() ? in_message : options.host;
}

// The container reference of a targeted action: "id" first, then "name".
std::string container_ref(const json& body) {
  for (const char* key : {"id", "name"}) {
    auto it = body.find(key);
    if (it != body.end() && it->is_string() && !it->get<std::string>().empty())
      return it->get<std::string>();
  }
  return {};
}

// An action the agent may spend a body field's seconds on (stop/restart: the container's stop
// timeout): that field, else Docker's default of 10 s, plus a margin.
std::chrono::milliseconds action_wait(const protocol::message_spec* spec, const json& body) {
  if (!spec || spec->wait_field.empty()) return {};
  long seconds = 10;
  auto t = body.find(spec->wait_field);
  if (t != body.end() && t->is_number_integer() && t->get<long>() >= 0 && t->get<long>() < 86400)
    seconds = t->get<long>();
  return std::chrono::milliseconds((seconds + 5) * 1000);
}

}  // namespace

common::result<send_plan> plan_send(std::string_view message_json, const send_options& options,
                                    const protocol::catalogue& cat) {
  auto msg = parse_message(message_json);
  if (!msg) return msg.err();
  auto host = pick_host(*msg, options);
  if (!host) return host.err();

  send_plan plan;
  plan.request.action = (*msg)["action"].get<std::string>();
  plan.request.user = options.user;
  plan.request.role = "admin";
  json body = std::move(*msg);
  body.erase("action");
  body.erase("host");
  // Unknown actions pass through: the agent answers them with a 400 naming the action.
  const auto* spec = cat.find(plan.request.action, protocol::message_kind::agent_action);
  plan.min_wait = action_wait(spec, body);
  plan.request.body = std::move(body);

  if (options.all) {
    if (!host->empty())
      return make_error(errc::invalid_argument, "--all broadcasts to every host; drop the host");
    plan.route = send_route::all;
    plan.topic = common::topic_req_all();
    return plan;
  }
  if (!host->empty()) {
    auto r = resolve_host(plan, *host);
    if (!r) return r.err();
    return plan;
  }
  if (spec && spec->target == message_target::scheduled) {
    plan.route = send_route::any;
    plan.topic = common::topic_req_any();
    return plan;
  }
  if (!spec || spec->target == message_target::container)
    plan.lookup_ref = container_ref(plan.request.body);
  if (plan.lookup_ref.empty())
    return make_error(errc::invalid_argument,
                      "'" + plan.request.action +
                          "' needs a host: give --host FQDN, a \"host\" field, an \"id\"/\"name\" "
                          "the directory knows, or --all");
  plan.route = send_route::lookup;
  return plan;
}

common::result<void> resolve_host(send_plan& plan, std::string_view fqdn) {
  auto topic = common::topic_req_host(fqdn);
  if (!topic)
    return make_error(errc::invalid_argument,
                      "bad host '" + std::string(fqdn.substr(0, 80)) + "': " + topic.err().message);
  plan.route = send_route::host;
  plan.topic = *topic;
  return {};
}

}  // namespace dockmesh::cli
