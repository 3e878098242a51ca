// event_hub: fans bus events (dir/ and evt/host/<fqdn>/) and job progress out to the WebSocket
// sessions. Each event is turned into one JSON text once and shared by every session that may see
// it: admins see everything; a user (by immutable user id) sees host-level events, events of
// containers they own (the owner is read from the event, or remembered from earlier directory
// events about that container), pull progress of their own pulls (the agent stamps the puller's id
// in the event's `user`) and progress of their own jobs; image events, which name no owner, go to
// admins only. publish_* run on the bus thread; subscribe/unsubscribe on session
// strands; a sink must only post to its session's strand. Thread-safe (one mutex), never blocks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/bus_client.hpp"
#include "ui-bridge/job_store.hpp"

namespace dockmesh::bridge {

using event_sink = std::function<void(std::shared_ptr<const std::string>)>;

struct event_facts {
  bool about_image = false;  // image events and pull progress: never shown to other users
  std::string puller;        // pull progress: the user id that started the pull
  bool about_container = false;
  std::string container_id;
  std::optional<std::string> owner;
  bool removed = false;  // the container is gone: forget its owner
};
// What an event says about a container, whatever shape the sender gave it.
event_facts facts_of(const common::bus_message& m);

class event_hub {
 public:
  explicit event_hub(std::size_t owner_cache = 65536);

  std::uint64_t subscribe(const std::string& user, bool admin, event_sink sink);
  void unsubscribe(std::uint64_t id);
  std::size_t subscribers() const;

  void publish_bus(const common::bus_message& m);
  void publish_job(const job& j);

  // For tests: who may see a container event (nullopt owner = unknown).
  std::optional<std::string> known_owner(const std::string& container_id) const;

 private:
  struct subscriber {
    std::string user;
    bool admin;
    event_sink sink;
  };
  void remember(const event_facts& f);

  std::size_t owner_cache_;
  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, subscriber> subs_;
  std::unordered_map<std::string, std::string> owners_;  // container id -> owner
  std::deque<std::string> owner_order_;                  // oldest first, for the bound
};

}  // namespace dockmesh::bridge
