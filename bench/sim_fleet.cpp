#include "bench/sim_fleet.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dm_names = dockmesh::common::protocol::names;

namespace dockmesh::bench {

using nlohmann::json;
using sim_clock = std::chrono::steady_clock;

struct sim_fleet::agent {
  std::unique_ptr<common::bus_client> bus;  // made when the agent is admitted
  common::curve_keypair keys;
  std::string fqdn;
  std::int64_t incarnation = 0;
  std::int64_t sequence = 0;
  json inventory = json::array();
  bool inventory_changed = false;
  sim_clock::time_point next_heartbeat;
};

std::vector<sim_identity> load_sim_identities(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<sim_identity> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    sim_identity id;
    if (!(l >> id.fqdn >> id.keys.public_key >> id.keys.secret_key)) continue;
    if (!common::valid_z85_key(id.keys.public_key) || !common::valid_z85_key(id.keys.secret_key))
      throw std::runtime_error(path + ": bad key for " + id.fqdn);
    out.push_back(std::move(id));
  }
  return out;
}

std::string sim_identities_text(const std::vector<sim_identity>& ids) {
  std::string s;
  for (const auto& id : ids)
    s += id.fqdn + " " + id.keys.public_key + " " + id.keys.secret_key + "\n";
  return s;
}

sim_fleet::sim_fleet(zmq::context_t& ctx, sim_options options, const std::vector<sim_identity>& ids)
    : ctx_(ctx), options_(std::move(options)) {
  auto incarnation = common::now_ms();
  for (const auto& id : ids) {
    auto a = std::make_unique<agent>();
    a->fqdn = id.fqdn;
    a->keys = id.keys;
    a->incarnation = incarnation;
    for (int c = 0; c < options_.containers_per_agent; ++c)
      a->inventory.push_back({{"id", common::new_message_id() + common::new_message_id()},
                              {"name", "sim-" + std::to_string(c)},
                              {"image", "local/busybox:latest"},
                              {"state", "running"},
                              {"created", incarnation / 1000},
                              {"owner", "bench"},
                              {"memory_limit", 0}});
    agents_.push_back(std::move(a));
  }
  if (options_.max_joining <= 0)  // all at once, as after a broker restart
    while (admitted_ < agents_.size()) connect(*agents_[admitted_++]);
}

void sim_fleet::connect(agent& a) {
  static std::mt19937_64 rng(std::random_device{}());
  common::bus_client_options o;
  o.brokers = options_.brokers;
  o.broker_public_key = options_.broker_public_key;
  o.keys = a.keys;
  o.client_id = a.fqdn;
  o.dedup_window = 256;
  o.handshake_timeout = options_.handshake_timeout;
  a.bus = std::make_unique<common::bus_client>(ctx_, std::move(o));
  a.bus->subscribe(common::topic_req_host(a.fqdn).value());
  a.bus->subscribe(common::topic_req_all());
  // What a real agent holds once it is up: it drops its reply topic after the readiness probe
  // (agent/bus_loop.cpp), and a simulated one has no probe to wait for.
  a.bus->unsubscribe(a.bus->reply_topic());
  // Heartbeats spread over the first period, as agents started at different times would be.
  a.next_heartbeat =
      sim_clock::now() + std::chrono::milliseconds(rng() % options_.heartbeat_every.count());
}

void sim_fleet::admit(std::vector<zmq::pollitem_t>& items, heartbeat_queue& due) {
  if (options_.max_joining <= 0) return;
  std::erase_if(joining_, [&](std::size_t i) {
    if (!agents_[i]->bus->handshake_succeeded()) return false;
    ++counters_.joined;
    return true;
  });
  while (admitted_ < agents_.size() &&
         joining_.size() < static_cast<std::size_t>(options_.max_joining)) {
    auto i = admitted_++;
    connect(*agents_[i]);
    items.push_back({agents_[i]->bus->sub_socket().handle(), 0, ZMQ_POLLIN, 0});
    due.push({agents_[i]->next_heartbeat, i});
    joining_.push_back(i);
  }
}

sim_fleet::~sim_fleet() = default;

json sim_fleet::host_record(const agent& a) const {
  auto n = static_cast<std::int64_t>(a.inventory.size());
  return {{"fqdn", a.fqdn},
          {"incarnation", a.incarnation},
          {"sequence", a.sequence},
          {"docker_up", true},
          {"docker_version", "20.10.24"},
          {"api_version", "1.41"},
          {"cpus", 8},
          {"memory_bytes", std::int64_t(32) << 30},
          {"labels", {{"sim", "true"}}},
          {"containers_running", n},
          {"containers_total", n},
          {"inventory_digest", "0000000000000000"},
          {"agent_version", "sim"},
          {"os", "Debian GNU/Linux 12 (bookworm)"},
          {"kernel", "6.1.0"}};
}

void sim_fleet::announce(agent& a, const std::string& action, json body) {
  common::envelope e;
  e.id = common::new_message_id();
  e.action = action;
  e.from = a.fqdn;
  e.body = std::move(body);
  (void)a.bus->publish(common::topic_ann(), e);
}

void sim_fleet::announce_inventory(agent& a) {
  ++a.sequence;
  announce(a, std::string(dm_names::inventory),
           {{"fqdn", a.fqdn},
            {"incarnation", a.incarnation},
            {"sequence", a.sequence},
            {"containers", a.inventory}});
  a.inventory_changed = false;
}

void sim_fleet::register_all(agent& a) {
  ++a.sequence;
  announce(a, std::string(dm_names::register_host), host_record(a));
  announce_inventory(a);
}

namespace {

// The agent's naming (agent/container_spec.cpp instance_name): first_instance numbers instances
// across hosts; a plain `instances: N` keeps -1..-N.
std::string instance_name(const json& body, int index) {
  std::string name = body.value("name", "");
  if (name.empty()) return "sim-" + common::new_message_id().substr(0, 8);
  int first = body.value("first_instance", 0);
  if (first > 0) return name + "-" + std::to_string(first + index - 1);
  return body.value("instances", 1) == 1 ? name : name + "-" + std::to_string(index);
}

}  // namespace

json sim_fleet::create(agent& a, const common::envelope& req) {
  json made = json::array();
  for (const auto& c : a.inventory)
    if (c.value("request", "") == req.id) made.push_back({{"id", c["id"]}, {"name", c["name"]}});
  if (!made.empty()) return made;  // a retry: what the first attempt made
  int instances = std::clamp(req.body.value("instances", 1), 1, 1000);
  bool start = req.body.value("start", true);
  for (int i = 1; i <= instances; ++i) {
    json c = {{"id", common::new_message_id() + common::new_message_id()},
              {"name", instance_name(req.body, i)},
              {"image", req.body.value("image", "local/busybox:latest")},
              {"state", start ? "running" : "created"},
              {"created", common::now_ms() / 1000},
              {"owner", req.user},
              {"memory_limit", req.body.value("memory", std::int64_t{0})},
              {"request", req.id},
              {"labels", req.body.value("labels", json::object())}};
    made.push_back({{"id", c["id"]}, {"name", c["name"]}, {"state", c["state"]}});
    a.inventory.push_back(std::move(c));
    ++counters_.created;
  }
  a.inventory_changed = true;
  return made;
}

int sim_fleet::remove(agent& a, const common::envelope& req) {
  std::string id = req.body.value("id", "");
  auto& inv = a.inventory;
  for (auto it = inv.begin(); it != inv.end(); ++it) {
    std::string cid = (*it)["id"].get<std::string>(), name = (*it)["name"].get<std::string>();
    if (id.empty() || (cid.rfind(id, 0) != 0 && name != id)) continue;
    inv.erase(it);
    a.inventory_changed = true;
    ++counters_.removed;
    return 200;
  }
  return 404;
}

void sim_fleet::heartbeat(agent& a) {
  a.bus->maintain();  // connects again to a broker that refused it while full
  if (a.sequence == 0) return register_all(a);
  ++a.sequence;
  announce(a, std::string(dm_names::heartbeat), host_record(a));
  ++counters_.heartbeats;
}

void sim_fleet::on_request(agent& a, const common::bus_message& m) {
  const auto& req = m.env;
  if (req.is_reply() || req.action.empty()) return;
  ++counters_.requests;
  if (req.action == dm_names::reannounce) return register_all(a);
  if (req.reply_to.empty()) return;
  common::envelope rep;
  if (req.action == dm_names::ping) {
    rep = common::make_reply(
        req, a.fqdn, 200,
        {{"pong", true}, {"fqdn", a.fqdn}, {"docker", "OK"}, {"agent_version", "sim"}});
  } else if (req.action == dm_names::list_containers) {
    rep = common::make_reply(req, a.fqdn, 200, {{"host", a.fqdn}, {"containers", a.inventory}});
  } else if (req.action == dm_names::create_container) {
    json made = create(a, req);
    rep = common::make_reply(req, a.fqdn, 201,
                             {{"containers", made},
                              {"id", made[0]["id"]},
                              {"name", made[0]["name"]},
                              {"note", "simulated"}});
  } else if (req.action == dm_names::remove_container) {
    if (remove(a, req) == 200)
      rep = common::make_reply(req, a.fqdn, 200,
                               {{"id", req.body.value("id", "")}, {"result", "removed"}});
    else
      rep = common::make_error_reply(req, a.fqdn, {common::errc::not_found, "no such container"});
  } else {
    rep = common::make_error_reply(
        req, a.fqdn,
        {common::errc::invalid_argument, "simulated agent: no action '" + req.action + "'"});
  }
  if (a.bus->publish(req.reply_to, rep)) ++counters_.replies;
}

void sim_fleet::run(const std::atomic<bool>& stop) {
  std::vector<zmq::pollitem_t> items;
  heartbeat_queue due;
  for (std::size_t i = 0; i < admitted_; ++i) {
    items.push_back({agents_[i]->bus->sub_socket().handle(), 0, ZMQ_POLLIN, 0});
    due.push({agents_[i]->next_heartbeat, i});
  }
  // Heartbeats due within `slack` go out together: one wake-up (and one poll over every
  // socket) per slack instead of one per agent, so the simulator leaves the CPU to the broker.
  constexpr auto slack = std::chrono::milliseconds(50);
  while (!stop.load()) {
    admit(items, due);
    auto next = due.empty() ? sim_clock::now() + slack : due.top().first;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - sim_clock::now());
    wait = std::clamp(wait, slack, std::chrono::milliseconds(100));
    try {
      zmq::poll(items, wait);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: the loop condition decides
      throw;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      auto& a = *agents_[i];
      while (auto m = a.bus->try_receive()) on_request(a, *m);
      if (a.inventory_changed) announce_inventory(a);
    }
    auto horizon = sim_clock::now() + slack;
    while (!due.empty() && due.top().first <= horizon) {
      auto [when, i] = due.top();
      due.pop();
      heartbeat(*agents_[i]);
      due.push({when + options_.heartbeat_every, i});
    }
  }
}

}  // namespace dockmesh::bench
