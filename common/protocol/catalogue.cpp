#include "common/protocol/catalogue.hpp"

#include <stdexcept>

namespace dockmesh::common::protocol {
namespace {

using namespace std::chrono_literals;
using k = message_kind;
using t = message_target;

const role_set clients{role::bridge, role::admin};
const role_set readers{role::admin, role::bridge, role::broker};
const role_set admins{role::admin};
const role_set agents{role::agent};
const role_set brokers{role::broker};

// An agent action: body schemas/<name>.json, reply schemas/<name>.reply.json.
message_spec action(std::string_view name, t target, std::chrono::milliseconds timeout,
                    std::string_view label, std::string_view summary, bool changes = false) {
  message_spec s;
  s.name = name;
  s.kind = k::agent_action;
  s.senders = clients;
  s.changes_state = changes;
  s.timeout = timeout;
  s.target = target;
  s.body_schema = name;
  s.reply_schema = std::string(name) + ".reply";
  s.label = label;
  s.summary = summary;
  return s;
}

message_spec control(std::string_view name, role_set senders, std::string_view summary,
                     bool changes = false) {
  message_spec s;
  s.name = name;
  s.kind = k::control_call;
  s.senders = senders;
  s.admin_only = senders == admins;
  s.changes_state = changes;
  s.timeout = 5s;
  s.body_schema = name;
  s.reply_schema = std::string(name) + ".reply";
  s.summary = summary;
  return s;
}

message_spec one_way(std::string_view name, k kind, role_set senders, std::string_view body,
                     std::string_view summary) {
  message_spec s;
  s.name = name;
  s.kind = kind;
  s.senders = senders;
  s.body_schema = body;
  s.summary = summary;
  return s;
}

message_spec with(message_spec s, bool admin_only, std::string_view wait_field = {}) {
  s.admin_only = admin_only;
  s.wait_field = wait_field;
  return s;
}

message_spec alias(message_spec s, std::string_view name, std::string_view of) {
  s.name = name;
  s.alias_of = of;
  s.body_schema = name;
  s.label = {};
  s.summary = "another name for " + std::string(of);
  return s;
}

// Stream openers: the timeout is the wait for the first answer, not the stream's length.
void add_stream_openers(std::vector<message_spec>& v) {
  namespace n = names;
  v.push_back(action(n::follow_logs, t::container, 30s, "follow", "follow a container's output"));
  v.back().opens_stream = true;
  v.push_back(action(n::follow_stats, t::container, 30s, "live stats",
                     "a container's usage, one sample a second"));
  v.back().opens_stream = true;
  v.push_back(action(n::exec_start, t::container, 30s, "terminal",
                     "an interactive command in a running container (when the host allows exec)",
                     true));
  v.back().opens_stream = true;
}

void add_agent_actions(std::vector<message_spec>& v) {
  namespace n = names;
  v.push_back(action(n::ping, t::host, 10s, n::ping, "is the agent and its dockerd alive"));
  v.push_back(
      action(n::host_info, t::host, 10s, "info", "the host's Docker version and resources"));
  v.push_back(action(n::disk_usage, t::host, 60s, "disk", "Docker's disk usage on the host"));
  v.push_back(action(n::list_containers, t::host, 30s, "list", "the host's containers (yours)"));
  v.push_back(
      action(n::inspect_container, t::container, 30s, "inspect", "one container's details"));
  v.push_back(action(n::create_container, t::scheduled, 120s, "create",
                     "create (and start) containers from an image or a template", true));
  v.push_back(action(n::start_container, t::container, 60s, "start", "start a container", true));
  v.push_back(with(action(n::stop_container, t::container, 120s, "stop", "stop a container", true),
                   false, "timeout"));
  v.push_back(
      with(action(n::restart_container, t::container, 120s, "restart", "restart a container", true),
           false, "timeout"));
  v.push_back(
      action(n::kill_container, t::container, 30s, "kill", "send a container a signal", true));
  auto remove =
      action(n::remove_container, t::container, 120s, "remove", "remove a container", true);
  v.push_back(remove);
  v.push_back(alias(remove, n::delete_container, n::remove_container));
  v.push_back(action(n::container_logs, t::container, 30s, "logs", "a container's recent output"));
  v.push_back(
      action(n::container_stats, t::container, 30s, "stats", "one sample of a container's usage"));
  v.push_back(action(n::list_images, t::host, 30s, "images", "the host's images"));
  v.push_back(action(n::inspect_image, t::host, 30s, "inspect image", "one image's details"));
  v.push_back(action(n::pull_image, t::host, 600s, "pull", "pull an image from a registry", true));
  v.push_back(
      with(action(n::remove_image, t::host, 60s, "remove image", "remove an image", true), true));
  add_stream_openers(v);
}

void add_control_calls(std::vector<message_spec>& v) {
  namespace n = names;
  v.push_back(control(n::hosts, readers, "the directory's hosts (filter by status, label)"));
  v.push_back(control(n::host, readers, "one host's record"));
  v.push_back(
      control(n::containers, readers, "the directory's containers (filter by host, owner)"));
  v.push_back(control(n::container, readers, "find one container by id, id prefix or name"));
  v.push_back(control(n::enroll, {role::pending, role::agent},
                      "an agent's key asks to be accepted (with a join token: at once)", true));
  v.push_back(control(n::keys_list, admins, "every key the broker knows and its state"));
  v.push_back(control(n::keys_accept, admins, "accept a key, with a role and a name", true));
  v.push_back(control(n::keys_reject, admins, "reject a pending key", true));
  v.push_back(control(n::keys_revoke, admins, "revoke a key; its connections are cut", true));
  v.push_back(control(n::token_create, admins, "a one-time join token for an agent", true));
  v.push_back(control(n::stats, admins, "the broker's counters"));
  // The bridge reads it for its admin users (GET /api/v1/audit checks the user's role).
  v.push_back(control(n::audit, {role::admin, role::bridge},
                      "the audit log: state-changing requests, newest first"));
  // Only a peer broker (a connection with the brokers' own key) may ask: docs/ha.md.
  v.push_back(control(n::directory_snapshot, brokers,
                      "the broker's whole directory (hosts and containers, with versions)"));
}

// Projects and services: the caller acts for `user` (the bridge sets it from the authenticated
// user; admin keys may leave it out).
void add_service_calls(std::vector<message_spec>& v) {
  namespace n = names;
  v.push_back(control(n::project_create, clients, "create a project (name unique per user)", true));
  v.push_back(control(n::project_list, clients, "the caller's projects (admins: all)"));
  v.push_back(control(n::project_delete, clients, "delete a project that has no services", true));
  v.push_back(control(n::service_create, clients, "create a service in a project", true));
  v.push_back(control(n::service_list, clients, "the caller's services (of one project)"));
  v.push_back(control(n::service_get, clients, "one service by id or project/name"));
  v.push_back(
      control(n::service_update, clients, "change a service's spec (generation + 1)", true));
  v.push_back(control(n::service_scale, clients, "set a service's replica count", true));
  v.push_back(control(n::service_delete, clients, "delete a service (its replicas go too)", true));
  // Pools, cordon, drain and quotas: set by admins (an admin key, or the bridge for an admin
  // user, which the broker checks), read by admin and bridge keys.
  v.push_back(control(n::host_policy_set, clients,
                      "set a host's pool (shared or a user's), cordon or drain it (admins)", true));
  v.push_back(control(n::host_policy_list, clients, "every host policy, with drain progress"));
  v.push_back(
      control(n::quota_set, clients, "set a user's quota: containers, memory (admins)", true));
  v.push_back(control(n::quota_list, clients, "the users' quotas"));
  // Teams that may own host pools: set and deleted by admins; listed whole for admins, for the
  // bridge acting for a user: the user's teams.
  v.push_back(control(n::team_set, clients, "create a team or replace its members (admins)", true));
  v.push_back(control(n::team_delete, clients, "delete a team that owns no host (admins)", true));
  v.push_back(control(n::team_list, clients, "the teams (a user's: those it is in)"));
}

void add_one_way(std::vector<message_spec>& v) {
  namespace n = names;
  v.push_back(one_way(n::register_host, k::announcement, agents, "host-record",
                      "an agent starts (or answers reannounce): its full host record"));
  v.push_back(one_way(n::heartbeat, k::announcement, agents, "host-record",
                      "every second: the full host record, sequence + 1"));
  v.push_back(
      one_way(n::unregister, k::announcement, agents, n::unregister, "an agent stops cleanly"));
  v.push_back(one_way(n::inventory, k::announcement, agents, n::inventory,
                      "the agent's containers, after start and after changes"));
  for (auto name : {n::host_up, n::host_down, n::host_gone, n::host_updated}) {
    v.push_back(one_way(name, k::directory_event, brokers, "host-entry",
                        "a host's state or record changed"));
    v.back().subject = "host";
  }
  for (auto name : {n::container_added, n::container_changed, n::container_removed}) {
    v.push_back(one_way(name, k::directory_event, brokers, "container-entry",
                        "a container entered, changed in or left the directory"));
    v.back().subject = "container";
  }
  v.push_back(one_way(n::broker_heartbeat, k::directory_event, brokers, n::broker_heartbeat,
                      "a broker is alive (every second)"));
  v.push_back(one_way(n::service_reconcile, k::directory_event, brokers, n::service_reconcile,
                      "the reconciler created, replaced or removed a replica, or a create failed"));
  v.back().subject = "service";
  v.push_back(one_way(n::docker_event, k::host_event, agents, n::docker_event,
                      "a Docker event of the agent's host"));
  v.push_back(one_way(n::pull_progress, k::stream, agents, n::pull_progress,
                      "progress of a pull-image before its reply"));
  v.back().subject = "image";
  v.push_back(one_way(n::stream_data, k::stream, agents, n::stream_data,
                      "a piece of an open stream, on the reader's reply topic"));
  v.push_back(one_way(n::stream_end, k::stream, agents, n::stream_end,
                      "the last message of a stream: why it ended"));
  v.push_back(one_way(n::stream_credit, k::stream, clients, n::stream_credit,
                      "the reader grants bytes and keeps the stream's lease"));
  v.push_back(
      one_way(n::stream_cancel, k::stream, clients, n::stream_cancel, "the reader ends a stream"));
  v.push_back(one_way(n::stream_input, k::stream, clients, n::stream_input,
                      "keystrokes (or end of input) for an exec stream"));
  v.push_back(one_way(n::stream_resize, k::stream, clients, n::stream_resize,
                      "the reader's terminal changed size"));
  v.push_back(one_way(n::reannounce, k::bus_signal, brokers, "",
                      "a broker asks agents to send register now"));
  v.push_back(one_way(n::probe, k::bus_signal, {role::agent, role::bridge, role::admin}, "",
                      "a client checks its own reply topic is routed"));
}

}  // namespace

std::vector<message_spec> builtin_messages() {
  std::vector<message_spec> v;
  add_agent_actions(v);
  add_control_calls(v);
  add_service_calls(v);
  add_one_way(v);
  return v;
}

catalogue::catalogue(std::vector<message_spec> entries) : entries_(std::move(entries)) {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const auto& e = entries_[i];
    if (e.name.empty()) throw std::invalid_argument("catalogue: an entry has no name");
    for (std::size_t j = 0; j < i; ++j)
      if (entries_[j].name == e.name)
        throw std::invalid_argument("catalogue: '" + e.name + "' is defined twice");
    if (!e.alias_of.empty()) {
      const auto* of = find(e.alias_of);
      if (!of || !of->alias_of.empty() || of->kind != e.kind)
        throw std::invalid_argument("catalogue: '" + e.name + "' is an alias of no entry");
    }
  }
}

const catalogue& catalogue::builtin() {
  static const catalogue c(builtin_messages());
  return c;
}

const message_spec* catalogue::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const message_spec* catalogue::find(std::string_view name, message_kind kind) const {
  const auto* e = find(name);
  return e && e->kind == kind ? e : nullptr;
}

const message_spec& catalogue::canonical(const message_spec& spec) const {
  if (spec.alias_of.empty()) return spec;
  const auto* of = find(spec.alias_of);
  return of ? *of : spec;
}

std::vector<const message_spec*> catalogue::of_kind(message_kind kind) const {
  std::vector<const message_spec*> out;
  for (const auto& e : entries_)
    if (e.kind == kind) out.push_back(&e);
  return out;
}

bool is_kind(std::string_view name, message_kind kind) {
  return catalogue::builtin().find(name, kind) != nullptr;
}

bool is_host_directory_event(std::string_view name) {
  const auto* e = catalogue::builtin().find(name, message_kind::directory_event);
  return e && e->subject == "host";
}

bool opens_stream(std::string_view name) {
  const auto* e = catalogue::builtin().find(name, message_kind::agent_action);
  return e && e->opens_stream;
}

}  // namespace dockmesh::common::protocol
