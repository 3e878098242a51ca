// control_client: request/reply with the brokers' ROUTER endpoints (directory queries, key
// management, enrollment). A DEALER socket with CURVE per broker; a query sends [empty][envelope]
// and expects [empty][reply envelope]. Two ways to use it, chosen at construction:
//  - in_order (dockmeshctl, agent enrollment): call() asks the brokers one after the other and
//    blocks until the first answer or the timeout.
//  - fan_out (the bridge's bus thread, which must never block): start() sends a read-only query to
//    every broker at once and returns its id; the owner polls the sockets (add_to_poll) with
//    its own, and collect() hands back each query once: the first 2xx reply whose `re` is its
//    id; a refusal (code >= 300) only once every broker that took the query has refused, or at
//    the deadline; errc::timeout at the deadline if nobody answered. Later replies for a
//    finished id are dropped. The sockets use
//    ZMQ_IMMEDIATE, so nothing queues for a broker that is down; a broker that could not take
//    the query is tried again every resend_every until the deadline. A query that changes state
//    (control_reach::one_broker: project and service writes) goes to the first broker, in the
//    configured order, that takes it, and to no other: the write is applied once, by one broker,
//    which shares it through etcd (docs/services.md).
// One owning thread (the one that constructed it). Never throws after construction.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/bus_client.hpp"
#include "common/envelope.hpp"
#include "common/poll_set.hpp"
#include "common/result.hpp"

namespace dockmesh::common {

enum class control_mode { in_order, fan_out };
// fan_out: a read goes to every broker, a write to one.
enum class control_reach { every_broker, one_broker };

// A finished fan_out query: its id (from start) and the reply envelope (2xx, or the first
// refusal when no broker answered better) or the error.
struct control_completion {
  std::string id;
  result<envelope> reply;
};

class control_client {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::size_t default_max_pending = 1024;
  static constexpr std::chrono::milliseconds resend_every{100};

  control_client(zmq::context_t& ctx, const bus_client_options& options,
                 control_mode mode = control_mode::in_order,
                 std::size_t max_pending = default_max_pending);  // throws on bad keys

  // in_order: sends {action, body} and returns the reply envelope (any code); errc::timeout if no
  // broker answered, errc::malformed if the answer did not decode.
  result<envelope> call(const std::string& action, nlohmann::json body,
                        std::chrono::milliseconds timeout);

  // fan_out: the id of the query now in flight, or errc::unavailable when max_pending queries are.
  result<std::string> start(const std::string& action, nlohmann::json body,
                            std::chrono::milliseconds timeout,
                            control_reach reach = control_reach::every_broker);
  // Adds every broker socket to the owner's poll (collect() reads them all: no slot is kept).
  void add_to_poll(poll_set& ps) const;
  // Reads every reply waiting (never blocks), re-offers queries to brokers that could not take
  // them, expires queries past their deadline; returns the queries finished since the last call.
  std::vector<control_completion> collect(clock::time_point now);
  // When collect() next has work to do without a socket becoming readable; nullopt when idle.
  std::optional<clock::time_point> next_wakeup() const;
  std::size_t pending() const { return pending_.size(); }

 private:
  struct query {
    std::string bytes;  // the encoded request, kept for brokers that could not take it yet
    std::chrono::milliseconds timeout;
    clock::time_point deadline;
    clock::time_point next_resend;
    std::vector<bool> sent;      // per broker
    std::vector<bool> answered;  // per broker: answered with a refusal (code >= 300)
    // The first refusal, kept while another broker may still answer 2xx: a broker that has just
    // restarted may not know a container yet, and its 404 must not hide another broker's answer.
    std::optional<envelope> refusal;
    control_reach reach = control_reach::every_broker;
  };

  envelope make_request(const std::string& action, nlohmann::json body,
                        std::chrono::milliseconds timeout) const;
  void reconnect(std::size_t i);
  bool offer(query& q);  // sends to each broker not yet reached; true if all are (one_broker: one)
  bool refused_by_all(const query& q) const;  // every broker that took it answered >= 300
  void read_replies(std::size_t i, std::vector<control_completion>& done);

  bus_client_options options_;
  zmq::context_t& ctx_;
  control_mode mode_;
  std::size_t max_pending_;
  std::vector<std::unique_ptr<zmq::socket_t>> sockets_;
  std::unordered_map<std::string, query> pending_;
};

}  // namespace dockmesh::common
