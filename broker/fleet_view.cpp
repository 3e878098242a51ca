#include "broker/fleet_view.hpp"

#include "common/json_fields.hpp"
#include "common/protocol/catalogue.hpp"

namespace dockmesh::broker {
namespace {

using common::int_of;

}  // namespace

void fleet_view::invalidate(const directory_events& events) {
  for (const auto& e : events) {
    // A container event names its host in "host", a host event in "fqdn" (the catalogue says
    // which an event is about).
    const auto* spec = common::protocol::catalogue::builtin().find(
        e.action, common::protocol::message_kind::directory_event);
    const char* key = spec && spec->subject == "container" ? "host" : "fqdn";
    auto it = e.body.find(key);
    if (it != e.body.end() && it->is_string()) dirty_.insert(it->get<std::string>());
  }
}

host_candidate fleet_view::build(const host_entry& h, const container_index& index) {
  const auto& containers = index.on_host(h.fqdn);
  host_candidate c;
  c.fqdn = h.fqdn;
  c.up = h.status == host_status::up;
  c.docker_up = h.docker_up();
  if (auto labels = h.record.find("labels"); labels != h.record.end() && labels->is_object())
    for (auto it = labels->begin(); it != labels->end(); ++it)
      if (it->is_string()) c.labels.emplace_back(it.key(), it->get<std::string>());
  c.memory_bytes = int_of(h.record, "memory_bytes");
  for (const auto& k : containers) {
    c.images.insert(normalize_image(k.image));
    if (k.state != "running") continue;
    ++c.containers;
    c.memory_reserved += k.memory_limit;
  }
  // Before the first inventory, the heartbeat's count is all we know. After it, an empty
  // inventory means empty: a heartbeat sent before the last removal would count ghosts.
  if (containers.empty() && !(index.inventory_version(h.fqdn) > version_stamp{}))
    c.containers = static_cast<int>(int_of(h.record, "containers_running"));
  return c;
}

const std::vector<host_candidate>& fleet_view::get(const host_directory& hosts,
                                                   const container_index& containers) {
  if (all_dirty_) {
    hosts_.clear();
    index_.clear();
    for (const auto& [fqdn, h] : hosts.hosts()) {
      index_[fqdn] = hosts_.size();
      hosts_.push_back(make(h, containers));
    }
    all_dirty_ = false;
    dirty_.clear();
    return hosts_;
  }
  for (const auto& fqdn : dirty_) {
    const host_entry* h = hosts.find(fqdn);
    if (!h) continue;  // containers of a host that never announced itself: not schedulable
    auto it = index_.find(fqdn);
    if (it == index_.end()) {
      index_[fqdn] = hosts_.size();
      hosts_.push_back(make(*h, containers));
    } else {
      hosts_[it->second] = make(*h, containers);
    }
  }
  dirty_.clear();
  return hosts_;
}

}  // namespace dockmesh::broker
