#include "bench/scale_harness.hpp"

#include <fstream>
#include <random>
#include <sstream>

#include "bench/sim_fleet.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dm_names = dockmesh::common::protocol::names;

namespace dockmesh::bench {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr int probe_agents = 10;

std::string sim_fqdn(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "sim%05d.bench.test", i);
  return buf;
}

}  // namespace

scale_setup make_scale_setup(int agents, int per_process, int victims, int base_from) {
  scale_setup s;
  s.work = make_temp_dir("dm-bench-scale");
  s.agents = agents;
  s.base_port = free_port_block(4, base_from);  // XSUB, XPUB, ROUTER, /metrics
  s.server = common::generate_keypair();
  s.admin = common::generate_keypair();
  common::save_keypair(s.work + "/server.key", s.server);
  std::string authorized = "admin bench-admin " + s.admin.public_key + "\n";
  std::vector<std::vector<sim_identity>> groups(2);
  for (int i = 0; i < agents; ++i) {
    sim_identity id{sim_fqdn(i), common::generate_keypair()};
    authorized += "agent " + id.fqdn + " " + id.keys.public_key + "\n";
    s.fqdns.push_back(id.fqdn);
    std::size_t g = i < victims ? 0 : i < victims + probe_agents ? 1 : 2;
    if (g == 0) s.victims.insert(id.fqdn);
    if (g == 1) s.probes.push_back(id.fqdn);
    if (g == 2) {
      if (groups.size() == 2 || static_cast<int>(groups.back().size()) >= per_process)
        groups.emplace_back();
      g = groups.size() - 1;
    }
    groups[g].push_back(std::move(id));
  }
  write_file(s.work + "/authorized_keys", authorized, 0600);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) continue;
    s.group_files.push_back(s.work + "/group" + std::to_string(g) + ".ids");
    write_file(s.group_files.back(), sim_identities_text(groups[g]), 0600);
    if (g >= 2) s.bulk_files.insert(s.group_files.back());
  }
  return s;
}

common::bus_client_options scale_admin_options(const scale_setup& s) {
  common::bus_client_options o;
  o.brokers.push_back({"127.0.0.1", s.base_port});
  o.keys = s.admin;
  o.broker_public_key = s.server.public_key;
  o.client_id = "bench-scale-admin";
  return o;
}

void dir_watch::take(const common::bus_message& m) {
  if (m.topic != common::topic_dir()) return;
  std::string fqdn = m.env.body.is_object() ? m.env.body.value("fqdn", "") : "";
  if (m.env.action == "host-up") up.emplace(fqdn, steady::now());
  if (m.env.action == "host-down") down.emplace(fqdn, steady::now());
}

void dir_watch::pump(common::bus_client& bus, milliseconds wait) {
  if (auto m = bus.receive(wait)) take(*m);
  while (auto m = bus.try_receive()) take(*m);
}

summary targeted_pings(mesh_client& admin, const std::vector<std::string>& to, int count,
                       std::uint64_t& errors) {
  std::mt19937_64 rng(1);
  std::vector<double> ms;
  int in_a_row = 0;
  for (int i = 0; i < count && in_a_row < 10; ++i) {  // a broken mesh must not eat the budget
    const auto& fqdn = to[rng() % to.size()];
    auto t0 = steady::now();
    auto r = admin.to_host(fqdn, std::string(dm_names::ping), json::object(), milliseconds(2000));
    if (r && r->code == 200)
      ms.push_back(ms_between(t0, steady::now())), in_a_row = 0;
    else
      ++errors, ++in_a_row;
  }
  return summarize(ms);
}

broadcast_result broadcast_pings(mesh_client& admin, std::size_t expected, int rounds,
                                 dir_watch& watch) {
  broadcast_result out;
  auto& bus = admin.bus();
  for (int b = 0; b < rounds; ++b) {
    common::envelope req;
    req.id = common::new_message_id();
    req.action = dm_names::ping;
    req.from = bus.client_id();
    req.reply_to = bus.reply_topic();
    req.role = "admin";
    req.user = "bench";
    req.deadline = common::now_ms() + 10000;
    std::set<std::string> from;
    auto t0 = steady::now();
    (void)bus.publish(common::topic_req_all(), req);
    while (from.size() < expected && ms_between(t0, steady::now()) < 10000) {
      auto m = bus.receive(milliseconds(100));
      if (!m) continue;
      watch.take(*m);
      if (m->env.re == req.id && m->env.code == 200 && from.insert(m->env.from).second)
        out.reply_ms.push_back(ms_between(t0, steady::now()));
    }
    if (from.size() >= expected)
      out.all_ms.push_back(ms_between(t0, steady::now()));
    else
      out.missing += expected - from.size();
  }
  return out;
}

summary directory_queries(mesh_client& admin, int rounds, std::size_t& up_count) {
  std::vector<double> ms;
  for (int i = 0; i < rounds; ++i) {
    auto t0 = steady::now();
    auto r = admin.control("hosts", json::object(), milliseconds(10000));
    if (!r || r->code != 200) continue;
    ms.push_back(ms_between(t0, steady::now()));
    up_count = 0;
    for (const auto& h : r->body.value("hosts", json::array()))
      if (h.value("status", "") == "up") ++up_count;
  }
  return summarize(ms);
}

summary scheduled_creates(mesh_client& admin, int count, std::uint64_t& errors) {
  std::vector<double> ms;
  int in_a_row = 0;
  for (int i = 0; i < count && in_a_row < 5; ++i) {
    common::envelope req;
    req.action = dm_names::create_container;
    req.role = "admin";
    req.user = "bench";
    req.body = {{"image", "local/busybox:latest"}, {"name", "sched-" + std::to_string(i)}};
    auto t0 = steady::now();
    auto r = common::bus_request(admin.bus(), common::topic_req_any(), req, milliseconds(3000),
                                 milliseconds(3000));
    if (r && r->code == 201)
      ms.push_back(ms_between(t0, steady::now())), in_a_row = 0;
    else
      ++errors, ++in_a_row;
  }
  return summarize(ms);
}

std::int64_t listen_overflows() {
  // Two "TcpExt:" lines: names, then values.
  std::ifstream in("/proc/net/netstat");
  std::string names, values;
  while (std::getline(in, names)) {
    if (names.rfind("TcpExt:", 0) != 0) continue;
    if (!std::getline(in, values)) return -1;
    std::istringstream n(names), v(values);
    std::string name, value;
    while (n >> name && v >> value)
      if (name == "ListenOverflows") return std::stoll(value);
  }
  return -1;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one;
}

}  // namespace dockmesh::bench
