// broker_peers: which brokers of the mesh are alive, and so whether this one schedules.
// Rule: exactly one live broker schedules `req/any/`: the one with the lowest --broker-id among
// the brokers heard from within alive_ms (each broker publishes `broker-heartbeat` on its dir/
// every second; a broker started with --peer subscribes to its peers' dir/). A broker that has
// peers does not schedule during its first alive_ms, so that it hears a lower-id peer before
// taking over; a broker without --peer is alone and schedules at once. Owned by the hub thread.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace dockmesh::broker {

class broker_peers {
 public:
  static constexpr std::int64_t default_alive_ms = 3500;

  broker_peers(int own_id, bool has_peers, std::int64_t started_ms,
               std::int64_t alive_ms = default_alive_ms)
      : own_id_(own_id), has_peers_(has_peers), started_ms_(started_ms), alive_ms_(alive_ms) {}

  void heard(int id, std::int64_t now_ms) {
    if (id != own_id_) last_heard_[id] = now_ms;
  }
  std::vector<int> live(std::int64_t now_ms) const {
    std::vector<int> out{own_id_};
    for (const auto& [id, t] : last_heard_)
      if (now_ms - t <= alive_ms_) out.push_back(id);
    return out;
  }
  bool is_leader(std::int64_t now_ms) const {
    if (has_peers_ && now_ms - started_ms_ < alive_ms_) return false;
    for (int id : live(now_ms))
      if (id < own_id_) return false;
    return true;
  }

 private:
  int own_id_;
  bool has_peers_;
  std::int64_t started_ms_;
  std::int64_t alive_ms_;
  std::map<int, std::int64_t> last_heard_;
};

}  // namespace dockmesh::broker
