#include "broker/snapshot_fetch.hpp"

#include <algorithm>

#include "broker/broker_core.hpp"
#include "broker/directory_snapshot.hpp"
#include "common/envelope.hpp"
#include "common/json_fields.hpp"
#include "common/log.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;
using steady = std::chrono::steady_clock;

// A snapshot is one message: larger than any bus message (10,000 hosts with their records are
// several MiB), from a peer that proved it holds the brokers' key, and still checked whole.
constexpr std::size_t snapshot_max_bytes = 64 * 1024 * 1024;
// A peer recorded in etcd may be dead (its record outlives it by up to the lease TTL) or frozen:
// if no CURVE handshake completes within this, the next peer is asked. After a full restart
// every record is stale and each peer would otherwise hold the start for its whole share.
constexpr std::chrono::milliseconds connect_timeout{300};

std::int64_t ms_since(steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
}

zmq::socket_t snapshot_socket(zmq::context_t& ctx, const peer_broker& peer,
                              const common::curve_keypair& keys) {
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  // The peer must prove it holds the brokers' secret key, and we present the same pair: ZAP
  // admits that key, and only that key, as `broker`.
  s.set(zmq::sockopt::curve_serverkey, keys.public_key);
  s.set(zmq::sockopt::curve_publickey, keys.public_key);
  s.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(snapshot_max_bytes));
  s.set(zmq::sockopt::immediate, 1);  // writable only once the handshake is done
  s.connect(peer.endpoint);
  return s;
}

// The reply frames [empty][envelope] for `id`, or an error once `deadline` passes.
common::result<common::envelope> await_reply(zmq::socket_t& s, const std::string& id,
                                             steady::time_point deadline) {
  common::decode_limits limits;
  limits.max_bytes = snapshot_max_bytes;
  limits.max_elements = snapshot_max_containers;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return make_error(errc::timeout, "no answer in time");
    std::vector<zmq::pollitem_t> items{{s.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, left);
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    std::vector<zmq::message_t> frames;
    do {
      frames.emplace_back();
      if (!s.recv(frames.back(), zmq::recv_flags::dontwait)) break;
    } while (frames.back().more());
    if (frames.size() != 2 || frames[0].size() != 0)
      return make_error(errc::malformed, "an answer with an unexpected frame layout");
    auto reply = common::decode(frames[1].to_string_view(), limits);
    if (!reply) return make_error(errc::malformed, "an undecodable answer: " + reply.err().message);
    if (reply->re == id) return reply;
  }
}

std::vector<peer_broker> read_peers(const broker_settings& settings, std::string& why_none) {
  common::etcd_client client(settings.etcd_endpoints, std::chrono::milliseconds(500));
  auto range = client.range(settings.etcd_prefix + "brokers/", true);
  if (!range) {
    why_none = "etcd unreachable (" + range.err().message + ")";
    return {};
  }
  auto peers = parse_peer_records(*range, settings.broker_id);
  if (peers.empty()) why_none = "no other broker is recorded in etcd";
  return peers;
}

}  // namespace

std::string broker_record_key(const broker_settings& settings) {
  return settings.etcd_prefix + "brokers/" + std::to_string(settings.broker_id);
}

json broker_record(const broker_settings& settings, std::int64_t started_ms) {
  return {{"id", settings.broker_id},
          {"endpoint", settings.advertise_endpoint},
          {"started", started_ms}};
}

std::vector<peer_broker> parse_peer_records(const common::etcd_range& range, int own_id) {
  std::vector<peer_broker> out;
  for (const auto& kv : range.kvs) {
    auto j = json::parse(kv.value, nullptr, false);
    if (!j.is_object()) continue;
    peer_broker p;
    p.id = static_cast<int>(common::int_of(j, "id", -1));
    p.endpoint = common::str_of(j, "endpoint");
    p.started = common::int_of(j, "started");
    if (p.id < 0 || p.id == own_id || !names_an_address(p.endpoint)) continue;
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const peer_broker& a, const peer_broker& b) {
    return a.started != b.started ? a.started < b.started : a.id < b.id;
  });
  return out;
}

common::result<json> ask_for_snapshot(zmq::context_t& ctx, const peer_broker& peer,
                                      const common::curve_keypair& broker_keys,
                                      const std::string& client_id,
                                      std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  auto s = snapshot_socket(ctx, peer, broker_keys);
  common::envelope req;
  req.id = common::new_message_id();
  req.action = std::string(common::protocol::names::directory_snapshot);
  req.from = client_id;
  req.deadline = common::now_ms() + timeout.count();
  req.body = json::object();
  std::string bytes = common::encode(req);
  std::vector<zmq::pollitem_t> items{{s.handle(), 0, ZMQ_POLLOUT, 0}};
  zmq::poll(items, std::min(timeout, connect_timeout));
  if (!(items[0].revents & ZMQ_POLLOUT))
    return make_error(errc::unavailable,
                      "no connection within " +
                          std::to_string(std::min(timeout, connect_timeout).count()) +
                          " ms (dead or frozen)");
  if (!s.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait) ||
      !s.send(zmq::buffer(bytes), zmq::send_flags::dontwait))
    return make_error(errc::unavailable, "could not send the request");
  auto reply = await_reply(s, req.id, deadline);
  if (!reply) return reply.err();
  if (reply->code != 200)
    return make_error(errc::unavailable, "refused with " + std::to_string(reply->code) +
                                             (reply->err ? ": " + reply->err->message : ""));
  return std::move(reply->body);
}

std::optional<std::string> load_directory_from_peer(const broker_settings& settings,
                                                    const common::curve_keypair& broker_keys,
                                                    broker_core& core) {
  auto t0 = steady::now();
  std::string why_none;
  auto peers = read_peers(settings, why_none);
  zmq::context_t ctx(1);
  std::vector<std::string> failures;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    auto left = snapshot_budget - std::chrono::milliseconds(ms_since(t0));
    if (left.count() <= 0) break;
    // What is left is shared among the peers still to try, so one dead peer cannot use it all.
    auto timeout = left / static_cast<int>(peers.size() - i);
    std::string name = "broker-" + std::to_string(peers[i].id);
    auto body = ask_for_snapshot(ctx, peers[i], broker_keys, settings.client_id(), timeout);
    auto counts = body ? core.load_snapshot(*body, common::now_ms())
                       : common::result<snapshot_counts>(body.err());
    if (!counts) {
      failures.push_back(name + ": " + counts.err().message);
      DM_LOG(warn) << "directory from " << name << " at " << peers[i].endpoint
                   << " not loaded: " << counts.err().message;
      continue;
    }
    DM_LOG(info) << "directory from " << name << ": " << counts->hosts << " hosts, "
                 << counts->containers << " containers in " << ms_since(t0) << " ms ("
                 << counts->hosts_adopted << " host(s) and " << counts->inventories_adopted
                 << " inventory(ies) newer than this broker's own)";
    return name;
  }
  if (!failures.empty() || !peers.empty()) {
    why_none = "no peer answered soundly within " + std::to_string(snapshot_budget.count()) + " ms";
    for (const auto& f : failures) why_none += "; " + f;
  }
  DM_LOG(info) << "starting without a directory snapshot: " << why_none << " ("
               << core.hosts().hosts().size() << " host(s), " << core.containers().size()
               << " container(s) from the local store; agents re-announce)";
  return std::nullopt;
}

}  // namespace dockmesh::broker
