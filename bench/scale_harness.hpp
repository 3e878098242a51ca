// scale_harness: the moving parts of bench_scale. make_scale_setup writes the keys (one CURVE
// key per SIMULATED agent, all in the broker's authorized-keys file) and splits the agents into
// bench_sim_agents processes: [0] the victims killed for the detection test, [1] a few probe
// agents in a small process of their own (targeted pings go there, so that they measure the
// broker rather than a simulator polling a thousand sockets), then the rest. dir_watch follows
// host-up/host-down on dir/ from the admin client. Owned by bench_scale's main thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/mesh_client.hpp"
#include "common/curve_keys.hpp"

namespace dockmesh::bench {

struct scale_setup {
  std::string work;
  int agents = 0;
  int base_port = 0;
  common::curve_keypair server, admin;
  std::vector<std::string> group_files;  // bench_sim_agents --identities, one per process
  std::set<std::string> bulk_files;      // those of group_files that are neither probes nor victims
  std::vector<std::string> fqdns;
  std::set<std::string> victims;
  std::vector<std::string> probes;
};

scale_setup make_scale_setup(int agents, int per_process, int victims, int base_from);
common::bus_client_options scale_admin_options(const scale_setup& s);

struct dir_watch {
  std::map<std::string, steady::time_point> up, down;
  void take(const common::bus_message& m);
  void pump(common::bus_client& bus, std::chrono::milliseconds wait);
};

// Sequential `ping`s to agents picked at random from `to`; stops after 10 failures in a row.
summary targeted_pings(mesh_client& admin, const std::vector<std::string>& to, int count,
                       std::uint64_t& errors);

struct broadcast_result {
  std::vector<double> reply_ms;  // every reply, from its broadcast's send
  std::vector<double> all_ms;    // per broadcast whose replies all came: time to the last
  std::uint64_t missing = 0;
};
broadcast_result broadcast_pings(mesh_client& admin, std::size_t expected, int rounds,
                                 dir_watch& watch);

// `hosts` control calls; `up_count` is the number of hosts up in the last answer.
summary directory_queries(mesh_client& admin, int rounds, std::size_t& up_count);
// create-container on req/any/ (the simulated agents answer 201); stops after 5 failures in a row.
summary scheduled_creates(mesh_client& admin, int count, std::uint64_t& errors);

// TcpExt ListenOverflows from /proc/net/netstat (connections the kernel dropped because a
// listener's accept queue was full), machine-wide.
std::int64_t listen_overflows();
std::string load_average();

}  // namespace dockmesh::bench
