// snapshot_fetch: how a broker with --etcd fills its directory from a live peer before it
// serves (docs/ha.md, "A broker that starts late"). Every broker records itself in etcd under
// `<prefix>brokers/<id>` on its election lease (etcd_link): {id, endpoint, started}. At start a
// broker reads that prefix, orders the others oldest first (the longest-running one has heard
// the most), and asks each in turn for `directory-snapshot` on its control endpoint, as the
// mesh's broker key (the only key ZAP names `broker`), within one budget for all attempts. The
// first sound answer is loaded (directory_snapshot.hpp); a refusal, a timeout or a malformed
// answer moves on to the next peer. Every outcome is one log line.
// Runs on main's thread before the hub thread starts, with a context and sockets of its own
// that are closed before it returns; blocks for at most the budget (plus one etcd read).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "broker/broker_options.hpp"
#include "common/curve_keys.hpp"
#include "common/result.hpp"
#include "common/storage/etcd_client.hpp"

namespace dockmesh::broker {

class broker_core;

// How long a starting broker spends on snapshots in all (etcd read apart).
inline constexpr std::chrono::milliseconds snapshot_budget{2000};

struct peer_broker {
  int id = 0;
  std::string endpoint;  // its control endpoint, tcp://HOST:PORT
  std::int64_t started = 0;
};

// What a broker records about itself in etcd, and under which key.
std::string broker_record_key(const broker_settings& settings);
nlohmann::json broker_record(const broker_settings& settings, std::int64_t started_ms);

// The live peers in a range of `<prefix>brokers/`, oldest first, without `own_id`; records that
// do not parse (or name no reachable endpoint) are skipped.
std::vector<peer_broker> parse_peer_records(const common::etcd_range& range, int own_id);

// One `directory-snapshot` call: the reply body, or why there is none (timeout, refusal,
// undecodable answer).
common::result<nlohmann::json> ask_for_snapshot(zmq::context_t& ctx, const peer_broker& peer,
                                                const common::curve_keypair& broker_keys,
                                                const std::string& client_id,
                                                std::chrono::milliseconds timeout);

// The whole start-up step: peers from etcd, one snapshot loaded into `core`, one log line.
// The name of the peer whose snapshot was loaded, or nullopt (the broker starts with what it had).
std::optional<std::string> load_directory_from_peer(const broker_settings& settings,
                                                    const common::curve_keypair& broker_keys,
                                                    broker_core& core);

}  // namespace dockmesh::broker
