#include "ui-bridge/docker_api.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "common/protocol/names.hpp"
#include "ui-bridge/docker_api_translate.hpp"
#include "ui-bridge/json_fields.hpp"
#include "ui-bridge/message_plan.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
using nlohmann::json;
namespace names = common::protocol::names;

void recent_creates::add(const std::string& user_id, const std::string& id, const std::string& name,
                         const std::string& host) {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  for (const auto& ref : {id, name}) {
    if (ref.empty()) continue;
    std::string key = user_id + "/" + ref;
    by_key_[key] = entry{id, host, now};
    order_.push_back(key);
  }
  while (order_.size() > max_) {
    by_key_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<std::pair<std::string, std::string>> recent_creates::find(
    const std::string& user_id, const std::string& ref) const {
  std::lock_guard lock(mutex_);
  auto it = by_key_.find(user_id + "/" + ref);
  if (it == by_key_.end() || std::chrono::steady_clock::now() - it->second.at > ttl_)
    return std::nullopt;
  return std::make_pair(it->second.id, it->second.host);
}

void fail_with_reply(const docker_call_ptr& call, const common::envelope& reply) {
  int code = reply.code >= 400 && reply.code <= 599 ? reply.code : 502;
  std::string message =
      reply.err ? reply.err->message : "the mesh answered " + std::to_string(reply.code);
  call->fail(static_cast<http::status>(code), message);
}

void docker_api::handle(docker_call_ptr call) {
  // A handler that throws on input nobody foresaw answers 500 for that request only.
  try {
    dispatch(call);
  } catch (const std::exception& e) {
    DM_LOG(error) << "docker endpoint: " << call->req.target() << " threw: " << e.what();
    call->fail(http::status::internal_server_error, "internal error");
  }
}

void docker_api::dispatch(const docker_call_ptr& call) {
  const std::string& id = call->route.id;
  auto seconds = [&](const char* name) -> json {
    auto v = call->param(name);
    if (v.empty()) return nullptr;
    try {
      return std::stoi(v);
    } catch (const std::exception&) {
      return nullptr;
    }
  };
  switch (call->route.route) {
    case docker_route::ping:
      return ping(call);
    case docker_route::version:
      return version(call);
    case docker_route::info:
      return info(call);
    case docker_route::events:
      return events(call);
    case docker_route::containers_list:
      return containers_list(call);
    case docker_route::container_create:
      return container_create(call);
    case docker_route::container_inspect:
      return container_inspect(call);
    case docker_route::container_logs:
      return container_logs(call);
    case docker_route::container_stats:
      return container_stats(call);
    case docker_route::container_wait:
      return container_wait(call);
    case docker_route::container_start:
      return container_action(call, names::start_container, {{"id", id}});
    case docker_route::container_stop:
    case docker_route::container_restart: {
      json args = {{"id", id}};
      if (!seconds("t").is_null()) args["timeout"] = seconds("t");
      auto action = call->route.route == docker_route::container_stop ? names::stop_container
                                                                      : names::restart_container;
      return container_action(call, action, args);
    }
    case docker_route::container_kill: {
      json args = {{"id", id}};
      if (!call->param("signal").empty()) args["signal"] = call->param("signal");
      return container_action(call, names::kill_container, args);
    }
    case docker_route::container_remove:
      return container_action(
          call, names::remove_container,
          {{"id", id}, {"force", call->flag("force")}, {"volumes", call->flag("v")}});
    case docker_route::images_list:
      return images_list(call);
    case docker_route::image_create:
      return image_create(call);
    case docker_route::image_inspect:
      return image_inspect(call);
    case docker_route::image_remove:
      return image_remove(call);
  }
}

void docker_api::send(const docker_call_ptr& call, json msg,
                      std::function<void(common::result<common::envelope>)> done) {
  auto on_strand = [call, done = std::move(done)](common::result<common::envelope> r) {
    call->post([done, r = std::move(r)]() mutable { done(std::move(r)); });
  };
  if (msg.contains("id") && msg["id"].is_string() && !msg.contains("host")) {
    if (auto known = recent_.find(call->who.user_id, msg["id"].get<std::string>())) {
      // Straight to the host that created it for this caller; its agent checks the owner label.
      msg["id"] = known->first;
      msg["host"] = known->second;
      auto plan = plan_message(msg, s_.gateway.schemas(), call->who);
      if (!plan) return on_strand(plan.err());
      plan->rule.kind = action_kind::host;
      return s_.gateway.send_plan(call->who, std::move(*plan), on_strand);
    }
  }
  s_.gateway.send(call->who, msg, on_strand);
}

void docker_api::send_ok(const docker_call_ptr& call, json msg,
                         std::function<void(const common::envelope&)> done) {
  send(call, std::move(msg), [call, done = std::move(done)](common::result<common::envelope> r) {
    if (!r) return call->fail(r.err());
    if (r->code >= 300) return fail_with_reply(call, *r);
    done(*r);
  });
}

void docker_api::fan_out(const docker_call_ptr& call, json msg, fan_out_handler done) {
  s_.gateway.control(std::string(names::hosts), {{"status", "up"}},
                     [this, call, msg = std::move(msg),
                      done = std::move(done)](common::result<common::envelope> r) mutable {
                       call->post([this, call, msg = std::move(msg), done = std::move(done),
                                   r = std::move(r)]() mutable {
                         if (!r) return done(r.err());
                         if (r->code != 200)
                           return done(common::make_error(
                               common::from_status(r->code),
                               r->err ? r->err->message : "the directory refused the host list"));
                         std::vector<std::string> hosts;
                         for (const auto& h : list_at(r->body, "hosts"))
                           if (text_of(h, "status") == "up" && !text_of(h, "fqdn").empty())
                             hosts.push_back(text_of(h, "fqdn"));
                         if (hosts.empty()) return done(host_results{});
                         struct gather {
                           host_results results;
                           std::size_t left;
                         };
                         auto g = std::make_shared<gather>();
                         g->left = hosts.size();
                         for (const auto& host : hosts) {
                           json m = msg;
                           m["host"] = host;
                           send(call, m, [g, host, done](common::result<common::envelope> reply) {
                             // Every completion runs on the call's strand: no two at once.
                             g->results.emplace_back(host, std::move(reply));
                             if (--g->left == 0) done(std::move(g->results));
                           });
                         }
                       });
                     });
}

void docker_api::ping(const docker_call_ptr& call) {
  http_response res = docker_response(call->req, http::status::ok, nullptr);
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::cache_control, "no-cache, no-store, must-revalidate");
  if (call->req.method() != http::verb::head) res.body() = "OK";
  res.content_length(2);
  call->respond(std::move(res));
}

void docker_api::version(const docker_call_ptr& call) {
  json component = {{"Name", "dockmesh"},
                    {"Version", "0.1.0"},
                    {"Details", {{"ApiVersion", docker_api_version}}}};
  call->reply(http::status::ok, {{"Platform", {{"Name", "dockmesh"}}},
                                 {"Components", json::array({component})},
                                 {"Version", "20.10.24-dockmesh"},
                                 {"ApiVersion", docker_api_version},
                                 {"MinAPIVersion", "1.12"},
                                 {"Os", "linux"},
                                 {"Arch", "amd64"},
                                 {"KernelVersion", ""},
                                 {"GitCommit", "dockmesh"},
                                 {"GoVersion", "n/a"},
                                 {"BuildTime", ""}});
}

void docker_api::info(const docker_call_ptr& call) {
  s_.gateway.control(
      std::string(names::hosts), json::object(),
      [this, call](common::result<common::envelope> hosts) {
        json body = json::object();
        if (!call->who.is_admin()) body["owner"] = call->who.user_id;
        s_.gateway.control(
            std::string(names::containers), body,
            [call, hosts = std::move(hosts)](common::result<common::envelope> mine) {
              call->post([call, hosts, mine] {
                if (!hosts) return call->fail(hosts.err());
                if (!mine) return call->fail(mine.err());
                std::int64_t cpus = 0, memory = 0, up = 0, total = 0;
                json labels = json::array();
                for (const auto& h : list_at(hosts->body, "hosts")) {
                  total += 1;
                  bool is_up = text_of(h, "status") == "up";
                  up += is_up ? 1 : 0;
                  if (is_up) cpus += integer_of(h, "cpus"), memory += integer_of(h, "memory_bytes");
                  labels.push_back("mesh.host." + text_of(h, "fqdn") + "=" + text_of(h, "status"));
                }
                std::int64_t running = 0, stopped = 0, all = 0;
                for (const auto& c : list_at(mine->body, "containers")) {
                  all += 1;
                  std::string st = text_of(c, "state");
                  running += st == "running" ? 1 : 0;
                  stopped += st == "exited" || st == "created" || st == "dead" ? 1 : 0;
                }
                call->reply(http::status::ok,
                            {{"ID", "dockmesh"},
                             {"Name", "dockmesh"},
                             {"Containers", all},
                             {"ContainersRunning", running},
                             {"ContainersPaused", 0},
                             {"ContainersStopped", stopped},
                             {"Images", 0},
                             {"Driver", "dockmesh"},
                             {"NCPU", cpus},
                             {"MemTotal", memory},
                             {"OperatingSystem", "dockmesh mesh: " + std::to_string(up) + " of " +
                                                     std::to_string(total) + " hosts up"},
                             {"OSType", "linux"},
                             {"Architecture", "x86_64"},
                             {"KernelVersion", ""},
                             {"ServerVersion", "20.10.24-dockmesh"},
                             {"IndexServerAddress", ""},
                             {"Labels", labels},
                             {"Swarm", {{"LocalNodeState", "inactive"}}},
                             {"RegistryConfig", {{"IndexConfigs", json::object()}}},
                             {"Plugins",
                              {{"Volume", json::array()},
                               {"Network", json::array()},
                               {"Log", json::array()}}},
                             {"Warnings", json::array()}});
              });
            });
      });
}

}  // namespace dockmesh::bridge
