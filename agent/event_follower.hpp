// event_follower: one thread that follows dockerd's GET /events stream (container and image
// events) with its own docker_client, and tells the bus thread through the inbox: every event as a
// ready docker-event envelope, and whether dockerd is reachable (docker_up / docker_down). When
// the stream breaks it pings once a second until dockerd is back, then follows again from the
// moment of that ping, so nothing that happened after reconnecting is missed. Stopped by stop(),
// which cancels the stream within about a second.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "agent/docker_client.hpp"

namespace dockmesh::agent {

class inbox_sender;

// Docker's event JSON -> the body of a docker-event envelope, or nullopt for events that are not
// worth publishing (exec, attach, resize, top and similar chatter).
std::optional<nlohmann::json> event_body(const nlohmann::json& docker_event);
// True for container events that change what the inventory would show.
bool changes_inventory(const nlohmann::json& body);

class event_follower {
 public:
  event_follower(zmq::context_t& ctx, std::string inbox_endpoint, docker_client_options docker,
                 std::string fqdn);
  ~event_follower();
  event_follower(const event_follower&) = delete;
  event_follower& operator=(const event_follower&) = delete;
  void stop();

 private:
  void run();
  bool pause(std::chrono::milliseconds d);  // false when stopping
  // Pings dockerd and tells the bus thread when reachability changes; true if it answered.
  bool check_up(docker_client& client, docker_transport& docker, inbox_sender& inbox);
  // Follows /events from `since` until the stream ends (dockerd gone) or stop().
  result<docker_response> follow(docker_transport& docker, inbox_sender& inbox, std::int64_t since);
  void publish_line(std::string_view line, inbox_sender& inbox);

  zmq::context_t& ctx_;
  std::string inbox_endpoint_;
  docker_client_options docker_;
  std::string fqdn_;
  std::optional<bool> reported_;  // last reachability told to the bus thread (follower thread)
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace dockmesh::agent
