#include "agent/event_follower.hpp"

#include "agent/agent_metrics.hpp"

#include "agent/agent_inbox.hpp"
#include "agent/docker_grammar.hpp"
#include "agent/docker_json.hpp"
#include "agent/endpoint_allowlist.hpp"
#include "common/envelope.hpp"
#include "common/log.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::agent {
namespace {

using nlohmann::json;

bool starts_with(const std::string& s, std::string_view p) {
  return s.rfind(p, 0) == 0;
}

}  // namespace

std::optional<json> event_body(const json& e) {
  std::string type = str_of(e, "Type");
  std::string action = str_of(e, "Action");
  if (type != "container" && type != "image") return std::nullopt;
  for (std::string_view noise :
       {"exec_", "attach", "resize", "top", "copy", "archive-path", "extract-to-dir", "export"})
    if (starts_with(action, noise)) return std::nullopt;
  const json& actor = field_of(e, "Actor");
  const json& attrs = field_of(actor, "Attributes");
  json body = {{"type", type},
               {"action", action},
               {"id", str_of(actor, "ID")},
               {"time", int_of(e, "time")},
               {"time_nano", int_of(e, "timeNano")},
               {"name", str_of(attrs, "name")}};
  if (type == "container") {
    body["image"] = str_of(attrs, "image");
    body["owner"] = str_of(attrs, "dockmesh.owner");
    if (field_of(attrs, "exitCode").is_string()) body["exit_code"] = str_of(attrs, "exitCode");
    if (field_of(attrs, "signal").is_string()) body["signal"] = str_of(attrs, "signal");
  }
  return body;
}

bool changes_inventory(const json& body) {
  // health_status too: the inventory carries each container's health (the rolling update's gate).
  return str_of(body, "type") == "container";
}

event_follower::event_follower(zmq::context_t& ctx, std::string inbox_endpoint,
                               docker_client_options docker, std::string fqdn)
    : ctx_(ctx),
      inbox_endpoint_(std::move(inbox_endpoint)),
      docker_(std::move(docker)),
      fqdn_(std::move(fqdn)) {
  docker_.cancel = &stop_;
  thread_ = std::thread([this] { run(); });
}

event_follower::~event_follower() {
  stop();
}

void event_follower::stop() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool event_follower::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [&] { return stop_.load(); });
  return !stop_;
}

void event_follower::publish_line(std::string_view line, inbox_sender& inbox) {
  auto body = event_body(json::parse(line, nullptr, false));
  if (!body) return;
  common::envelope env;
  env.id = common::new_message_id();
  env.action = common::protocol::names::docker_event;
  env.from = fqdn_;
  env.body = std::move(*body);
  inbox.send(inbox_kind::event, common::encode(env));
  agent_metrics::get().event_received();
}

bool event_follower::check_up(docker_client& client, docker_transport& docker,
                              inbox_sender& inbox) {
  auto ping = docker.call({http_method::get, "/_ping", {}, {}, std::chrono::seconds(5)});
  agent_metrics::get().dockerd_up(ping.ok());
  if (!ping) {
    if (reported_ != false && !stop_) {
      DM_LOG(warn) << ping.err().message << "; retrying every second";
      inbox.send(inbox_kind::docker_down, ping.err().message);
      reported_ = false;
    }
    return false;
  }
  if (reported_ != true) {
    DM_LOG(info) << "dockerd at " << docker_.socket_path << " is up (API " << client.api_version()
                 << ")";
    inbox.send(inbox_kind::docker_up);
    reported_ = true;
  }
  return true;
}

result<docker_response> event_follower::follow(docker_transport& docker, inbox_sender& inbox,
                                               std::int64_t since) {
  json filters = {{"type", {"container", "image"}}};
  std::string path =
      "/events" +
      query_string().add("since", std::to_string(since)).add("filters", filters.dump()).str();
  std::string buffer;
  agent_metrics::get().event_stream_up(true);
  auto r = docker.stream({http_method::get, path, {}, {}, {}}, [&](std::string_view piece) {
    buffer.append(piece);
    std::size_t start = 0;
    for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n', start)) {
      publish_line(std::string_view(buffer).substr(start, nl - start), inbox);
      start = nl + 1;
    }
    buffer.erase(0, start);
    return buffer.size() < 1024 * 1024;  // Docker's lines are small; this one is not an event
  });
  agent_metrics::get().event_stream_up(false);
  return r;
}

void event_follower::run() {
  docker_client client(docker_);
  allowlisted_transport docker(client, std::string(job_events));
  inbox_sender inbox(ctx_, inbox_endpoint_);
  while (!stop_) {
    // Taken before the ping, so events between the ping and the stream are replayed.
    auto since = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    if (!check_up(client, docker, inbox)) {
      if (!pause(std::chrono::seconds(1))) break;
      continue;
    }
    auto r = follow(docker, inbox, since);
    if (stop_) break;
    DM_LOG(debug) << "events stream ended: "
                  << (r ? std::string("closed by dockerd") : r.err().message);
    if (!pause(std::chrono::milliseconds(200))) break;
  }
}

}  // namespace dockmesh::agent
