// docker_api: the handlers of the Docker-compatible endpoint (docs/docker-api.md). Each Docker
// call becomes the mesh's own messages, sent through the message gateway with the caller as the
// principal, so that the REST API's ownership and create-policy checks apply unchanged:
// containers by id go through the directory's ownership lookup (or straight to the host that just
// created them for this user: the directory learns of a new container up to a second later, and
// the agent checks the owner label again anyway); lists, images and pulls fan out as targeted
// requests to every host that is up (the bridge never broadcasts). Handlers run on the
// connection's strand and never block; bus completions only post back to it.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ui-bridge/api_call.hpp"
#include "ui-bridge/docker_call.hpp"

namespace dockmesh::bridge {

// Containers this bridge created lately, per user: (user id, id or name) -> (full id, host).
class recent_creates {
 public:
  explicit recent_creates(std::size_t max = 4096,
                          std::chrono::seconds ttl = std::chrono::seconds(120))
      : max_(max), ttl_(ttl) {}
  void add(const std::string& user_id, const std::string& id, const std::string& name,
           const std::string& host);
  // (full id, host) or nullopt.
  std::optional<std::pair<std::string, std::string>> find(const std::string& user_id,
                                                          const std::string& ref) const;

 private:
  struct entry {
    std::string id, host;
    std::chrono::steady_clock::time_point at;
  };
  std::size_t max_;
  std::chrono::seconds ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> by_key_;
  std::list<std::string> order_;
};

class docker_api {
 public:
  using host_results = std::vector<std::pair<std::string, common::result<common::envelope>>>;
  using fan_out_handler = std::function<void(common::result<host_results>)>;

  explicit docker_api(bridge_services& s) : s_(s) {}
  void handle(docker_call_ptr call);

 private:
  void dispatch(const docker_call_ptr& call);
  // system
  void ping(const docker_call_ptr& call);
  void version(const docker_call_ptr& call);
  void info(const docker_call_ptr& call);
  // containers
  void containers_list(const docker_call_ptr& call);
  void container_create(const docker_call_ptr& call);
  void container_inspect(const docker_call_ptr& call);
  void container_action(const docker_call_ptr& call, std::string_view action, nlohmann::json args);
  void container_stats(const docker_call_ptr& call);
  void stats_loop(const docker_call_ptr& call);
  void container_logs(const docker_call_ptr& call);
  void container_wait(const docker_call_ptr& call);
  // images (docker_api_images.cpp)
  void images_list(const docker_call_ptr& call);
  void image_create(const docker_call_ptr& call);
  void image_inspect(const docker_call_ptr& call);
  void image_remove(const docker_call_ptr& call);
  // events and followers (docker_api_streams.cpp)
  void events(const docker_call_ptr& call);
  void follow_logs(const docker_call_ptr& call, nlohmann::json request, std::int64_t last_s,
                   std::int64_t last_ns);
  void poll_wait(const docker_call_ptr& call, bool until_removed);
  void events_until(const docker_call_ptr& call, std::uint64_t subscription, std::int64_t until);

  // Sends a message as the caller; `done` runs on the call's strand with the reply (any code).
  void send(const docker_call_ptr& call, nlohmann::json msg,
            std::function<void(common::result<common::envelope>)> done);
  // As send, but a failure or a reply code >= 300 answers the call with Docker's error shape.
  void send_ok(const docker_call_ptr& call, nlohmann::json msg,
               std::function<void(const common::envelope&)> done);
  // The message to every host that is up (adding "host"); `done` on the strand with each host's
  // result, or the directory's failure.
  void fan_out(const docker_call_ptr& call, nlohmann::json msg, fan_out_handler done);

  bridge_services& s_;
  recent_creates recent_;
};

// A reply that failed, as Docker's error (status and message).
void fail_with_reply(const docker_call_ptr& call, const common::envelope& reply);

}  // namespace dockmesh::bridge
