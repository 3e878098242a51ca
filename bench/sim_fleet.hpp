// sim_fleet: many SIMULATED agents in one process, for the scale benchmark. Each simulated agent
// has its own CURVE key, its own bus_client (PUB + SUB connections to the broker) and behaves on
// the bus like dockmesh-agent: `register` + `inventory` at start and on `reannounce`, a
// `heartbeat` with the full host record every second, answers to `ping`, `list-containers` (from
// a generated inventory), `create-container` and `remove-container`. A create makes up its
// containers (name as the agent would give it, the request's image and labels, owner, the
// request id as `request`, state running; nothing runs) and a remove drops one; either way the
// agent announces its new inventory at the end of that poll round, as the real agent does after
// Docker's event, so the broker's directory and the reconciler see them. A retried create
// (same request id) reports the containers it made the first time. There is no dockerd behind it.
// With max_joining, agents connect a few at a time (the next when one has finished its handshake),
// as a fleet whose reconnects are spread out would; otherwise all at once.
// One thread (the one that calls run()) owns every socket; it never blocks longer than one poll.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/bus_client.hpp"
#include "common/curve_keys.hpp"

namespace dockmesh::bench {

struct sim_identity {
  std::string fqdn;
  common::curve_keypair keys;
};

// One agent a line: "<fqdn> <public key> <secret key>" (Z85 has no spaces).
std::vector<sim_identity> load_sim_identities(const std::string& path);
std::string sim_identities_text(const std::vector<sim_identity>& ids);

struct sim_options {
  std::vector<common::broker_address> brokers;
  std::string broker_public_key;
  std::chrono::milliseconds heartbeat_every{1000};
  int containers_per_agent = 5;
  // At most this many agents connecting at once (admitted, SUB handshake not yet done); the next
  // is admitted when one has joined. 0: every agent connects at once.
  int max_joining = 0;
  std::chrono::milliseconds handshake_timeout{3000};  // bus_client_options::handshake_timeout
};

struct sim_counters {
  std::uint64_t heartbeats = 0, requests = 0, replies = 0, created = 0, removed = 0;
  std::uint64_t joined = 0;  // agents whose SUB handshake completed
};

class sim_fleet {
 public:
  sim_fleet(zmq::context_t& ctx, sim_options options, const std::vector<sim_identity>& ids);
  ~sim_fleet();
  // Until `stop` becomes true.
  void run(const std::atomic<bool>& stop);
  const sim_counters& counters() const { return counters_; }

 private:
  struct agent;
  using heap_entry = std::pair<std::chrono::steady_clock::time_point, std::size_t>;
  using heartbeat_queue =
      std::priority_queue<heap_entry, std::vector<heap_entry>, std::greater<heap_entry>>;
  void connect(agent& a);
  // Connects the next agents while fewer than max_joining are still handshaking.
  void admit(std::vector<zmq::pollitem_t>& items, heartbeat_queue& due);
  void announce(agent& a, const std::string& action, nlohmann::json body);
  void register_all(agent& a);
  void heartbeat(agent& a);
  void on_request(agent& a, const common::bus_message& m);
  nlohmann::json create(agent& a, const common::envelope& req);
  int remove(agent& a, const common::envelope& req);
  void announce_inventory(agent& a);
  nlohmann::json host_record(const agent& a) const;

  zmq::context_t& ctx_;
  sim_options options_;
  std::vector<std::unique_ptr<agent>> agents_;  // [0, admitted_) are connected
  std::size_t admitted_ = 0;
  std::vector<std::size_t> joining_;  // admitted, handshake not yet done
  sim_counters counters_;
};

}  // namespace dockmesh::bench
