// bus_client: one client's connection to the mesh. A PUB socket connected to every broker's XSUB
// endpoint and a SUB socket connected to every broker's XPUB endpoint, both with CURVE. Because
// a message can arrive once per broker, received messages are de-duplicated on (id, attempt) in
// a bounded window. Owned and used by exactly one thread (the one that constructed it); it never
// blocks except in receive()/wait_ready() with the caller's timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <zmq.hpp>

#include "common/curve_keys.hpp"
#include "common/envelope.hpp"
#include "common/result.hpp"

namespace dockmesh::common {

inline constexpr int default_broker_port = 7400;  // XSUB; XPUB = +1, ROUTER = +2

struct broker_address {
  std::string host = "127.0.0.1";
  int port = default_broker_port;
  std::string xsub_endpoint() const;    // tcp://host:port
  std::string xpub_endpoint() const;    // tcp://host:port+1
  std::string router_endpoint() const;  // tcp://host:port+2
};
result<broker_address> parse_broker_address(std::string_view s);  // "HOST[:PORT]"

struct bus_client_options {
  std::vector<broker_address> brokers;
  curve_keypair keys;             // this client's key pair
  std::string broker_public_key;  // the mesh's broker key (Z85)
  std::string client_id;          // segment of rep/<client_id>/
  std::size_t max_message_bytes = 4 * 1024 * 1024;
  std::size_t dedup_window = 8192;
  // A CURVE handshake not finished in this time is given up and the connection retried. Short by
  // default so that a wrong broker key fails fast; a fleet joining a broker that is busy
  // accepting thousands of connections needs longer (bench/README.md, the 10,000-agent join).
  std::chrono::milliseconds handshake_timeout{3000};
};

struct bus_message {
  std::string topic;
  envelope env;
  std::string sender;  // the broker's stamp (common/bus_identity.hpp); empty if unstamped
};

struct bus_counters {
  std::uint64_t published = 0;
  std::uint64_t received = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t malformed = 0;
  std::uint64_t forged = 0;  // replies whose stamp is not the identity the request addressed
};

// Bounded set of recently seen keys; the oldest are forgotten first.
class recent_ids {
 public:
  explicit recent_ids(std::size_t capacity) : capacity_(capacity) {}
  bool insert(const std::string& key);  // false if already present
  std::size_t size() const { return set_.size(); }

 private:
  std::size_t capacity_;
  std::deque<std::string> order_;
  std::unordered_set<std::string> set_;
};

class bus_client {
 public:
  bus_client(zmq::context_t& ctx, bus_client_options options);  // throws on bad options
  bus_client(const bus_client&) = delete;
  bus_client& operator=(const bus_client&) = delete;

  void subscribe(std::string_view prefix);
  void unsubscribe(std::string_view prefix);
  result<void> publish(std::string_view topic, const envelope& env);

  // One message if one is waiting, else nullopt. Never blocks.
  std::optional<bus_message> try_receive();
  // Waits up to `timeout` for one message.
  std::optional<bus_message> receive(std::chrono::milliseconds timeout);
  // Until a probe sent on our own reply topic comes back through a broker (both directions
  // connected and subscribed) or `timeout` passes. Other messages seen meanwhile are kept.
  // False early when every broker refused the CURVE handshake (see handshake_failure()).
  bool wait_ready(std::chrono::milliseconds timeout);
  // Why brokers refused this client's handshake ("" if none did): read from a ZeroMQ socket
  // monitor on the SUB socket (ZMQ_EVENT_HANDSHAKE_FAILED_*), so a client whose key is not
  // accepted, or that has the wrong broker key, says so instead of waiting out its timeout.
  std::string handshake_failure();
  // True once the SUB socket has completed a CURVE handshake with some broker (read from the
  // same monitor). Never blocks.
  bool handshake_succeeded();
  // A broker at its connection limit refuses the handshake with ZAP status 500, and libzmq does
  // not retry a refused connection: this connects that socket to that broker again, after a
  // pause that doubles from 0.5 s to 10 s (with jitter) while the refusals go on. Called by
  // wait_ready() and receive(); a loop that uses try_receive() calls it now and then (each
  // heartbeat). Never blocks.
  void maintain();

  zmq::socket_ref sub_socket() { return sub_; }
  const std::string& client_id() const { return options_.client_id; }
  const std::string& reply_topic() const { return reply_topic_; }
  const bus_counters& counters() const { return counters_; }
  // A receiver that dropped a reply for its stamp counts it here (and logs it).
  void note_forged(const bus_message& m);

 private:
  std::optional<bus_message> read_one();
  void read_monitor();
  void read_events(zmq::socket_t& monitor, bool pub);
  void apply_curve(zmq::socket_t& s);
  struct reconnect {
    bool pub;
    std::string endpoint;
    std::chrono::steady_clock::time_point at;
  };

  bus_client_options options_;
  std::string reply_topic_;
  zmq::socket_t pub_;
  zmq::socket_t sub_;
  zmq::socket_t monitor_;                       // PAIR: sub_'s handshake results
  zmq::socket_t pub_monitor_;                   // PAIR: pub_'s (a full broker refuses either)
  std::map<std::string, std::string> refused_;  // broker endpoint -> why (sub_, for good)
  bool handshaken_ = false;
  std::vector<reconnect> reconnects_;                        // refused by a full broker
  std::map<std::string, std::chrono::milliseconds> pauses_;  // per endpoint, doubling
  recent_ids seen_;
  std::deque<bus_message> held_;
  bus_counters counters_;
};

// Publishes `request` on `topic` and waits for the reply whose `re` is request.id on the
// client's reply topic, re-publishing with the same id (attempt + 1) every `retry_every`.
// Only a reply stamped by the identity `topic` addresses counts (reply_stamp_accepted); others
// are dropped and counted as forged.
// Fills in id, from, reply_to and deadline when empty. errc::timeout if nothing came back.
// Messages that are not the awaited reply are dropped: use it from request/response clients.
result<envelope> bus_request(
    bus_client& bus, std::string_view topic, envelope request, std::chrono::milliseconds timeout,
    std::chrono::milliseconds retry_every = std::chrono::milliseconds(1000));

// As bus_request, for broadcasts: gathers one reply per distinct sender until `timeout`, or until
// `expected` replies arrived when expected > 0.
std::vector<envelope> bus_collect(bus_client& bus, std::string_view topic, envelope request,
                                  std::chrono::milliseconds timeout, std::size_t expected = 0);

}  // namespace dockmesh::common
