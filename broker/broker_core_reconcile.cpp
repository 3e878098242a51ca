// broker_core's reconciler side (declared in broker_core.hpp): when the reconciler runs, and how
// its requests join the broker's own scheduling path. Hub thread.
#include "broker/broker_core.hpp"

#include "common/log.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {

bool broker_core::reconcile_ready(std::int64_t now_ms) const {
  // Acting on a partial view would remove the replicas of services not loaded yet, or create
  // replicas that a host not yet heard from already runs.
  if (etcd_mode() && !records_loaded_) return false;
  if (now_ms - started_ms_ < settings_.down_after_ms) return false;
  // (A host whose Docker is down sends no inventory; it takes no replicas either.)
  for (const auto& [fqdn, h] : hosts_.hosts())
    if (h.status == host_status::up && h.docker_up() && !containers_.heard_since_start(fqdn))
      return false;
  return true;
}

void broker_core::run_reconciler(std::int64_t now_ms, publications& out) {
  if (!is_leader(now_ms)) {
    if (reconciling_) reconciler_.reset();
    reconciling_ = false;
    return;
  }
  if (!reconciler_.due(services_.revision(), now_ms) || !reconcile_ready(now_ms)) return;
  reconciling_ = true;
  reconcile_sender who{client_id_, dispatcher_.reply_topic(), ha_.epoch,
                       [this](const std::string& id) {
                         for (const auto& fqdn : dispatcher_.placed_hosts(id)) {
                           const host_entry* h = hosts_.find(fqdn);
                           if (!h || h->status != host_status::up) return true;
                         }
                         return false;
                       }};
  auto work = reconciler_.pass({services_, hosts_, containers_}, who, now_ms);
  // Creates take the path of any scheduled create: name gate, placement ledger, etcd commit.
  for (const auto& env : work.creates)
    for (auto& p : on_shared_request(env, now_ms)) deliver(std::move(p), now_ms, out);
  track_sent(work.removes, now_ms);
  for (auto& p : work.removes) out.push_back(std::move(p));
  for (const auto& [id, why] : work.update_failures) fail_update(id, why, now_ms, work.events);
  for (auto& e : work.events)
    out.push_back(broker_message(common::topic_dir(),
                                 std::string(common::protocol::names::service_reconcile),
                                 std::move(e)));
}

// A rolling update failed: the registry rolls it back (a new generation, stored and mirrored to
// etcd like any change, so a new leader carries on from it) or pauses it.
void broker_core::fail_update(const std::string& id, const std::string& why, std::int64_t now_ms,
                              std::vector<nlohmann::json>& events) {
  auto r = services_.fail_update(id, why, now_ms);
  if (!r) {
    DM_LOG(warn) << "service " << id << ": update failed (" << why
                 << ") and could not be recorded: " << r.err().message;
    return;
  }
  const auto st = r->value("update_status", nlohmann::json::object());
  bool back = st.value("state", "") == "rolled-back";
  DM_LOG(info) << "service " << id << ": update failed (" << why << "), "
               << (back ? "rolled back" : "paused");
  nlohmann::json e = {{"service", id},
                      {"owner", r->value("owner", "")},
                      {"step", back ? "rollback" : "update-paused"},
                      {"generation", r->value("generation", std::int64_t{1})},
                      {"replicas", (*r)["spec"].value("replicas", 1)},
                      {"error", why}};
  if (back) e["failed_generation"] = st.value("failed_generation", std::int64_t{1});
  events.push_back(std::move(e));
}

void broker_core::deliver(publication p, std::int64_t now_ms, publications& out) {
  // The broker does not read back what it publishes on its own reply topic.
  if (p.topic == dispatcher_.reply_topic() && p.env.is_reply() &&
      reconciler_.on_reply(p.env, now_ms))
    return;
  out.push_back(std::move(p));
}

}  // namespace dockmesh::broker
