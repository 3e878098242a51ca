// service_registry: the projects and services the broker knows (docs/services.md), in memory,
// written through to a service_store. A project belongs to one user (the immutable user id; ""
// for admin-owned) and its name is unique per user; a service belongs to a project and its name
// is unique in it. A caller sees only what it owns (admins see everything): another user's
// project or service answers exactly like a missing one. Every change bumps revision(), which
// the reconciler watches. Owned by the hub thread; never blocks beyond a RocksDB write.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/service_store.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

// Who a call acts for: the user id the bridge vouches for, and whether that user is an admin.
struct service_caller {
  std::string user;
  bool admin = false;
};

class service_registry {
 public:
  explicit service_registry(service_store& store);  // loads every stored record

  // `id`: the new record's id (derived from the request id, so a retry or the same request on
  // another broker names the same record).
  common::result<nlohmann::json> create_project(const service_caller& who, const std::string& name,
                                                const std::string& id, std::int64_t now_ms);
  nlohmann::json list_projects(const service_caller& who) const;
  common::result<nlohmann::json> delete_project(const service_caller& who, const std::string& ref);

  common::result<nlohmann::json> create_service(const service_caller& who,
                                                const std::string& project, const std::string& name,
                                                const nlohmann::json& spec, const std::string& id,
                                                std::int64_t now_ms);
  // project "" = every visible service.
  common::result<nlohmann::json> list_services(const service_caller& who,
                                               const std::string& project) const;
  // ref: a service id, or "<project>/<service>" (the project by id or by the caller's name).
  common::result<nlohmann::json> get_service(const service_caller& who,
                                             const std::string& ref) const;
  common::result<nlohmann::json> update_service(const service_caller& who, const std::string& ref,
                                                const nlohmann::json& patch, std::int64_t now_ms);
  common::result<nlohmann::json> scale_service(const service_caller& who, const std::string& ref,
                                               std::int64_t replicas, std::int64_t now_ms);
  common::result<nlohmann::json> delete_service(const service_caller& who, const std::string& ref);
  // The reconciler saw the rolling update of service `id` fail: with update.rollback (and a
  // previous spec) the service goes back to the previous spec's container fields as a new
  // generation whose replicas include the previous generation's; otherwise the update pauses.
  // Stored like any change (update_status says which, with the error).
  common::result<nlohmann::json> fail_update(const std::string& id, const std::string& error,
                                             std::int64_t now_ms);

  // For the reconciler: every service record, by id.
  const std::map<std::string, nlohmann::json>& services() const { return services_; }
  const nlohmann::json* project(const std::string& id) const;
  std::uint64_t revision() const { return revision_; }
  // Host policies, quotas and teams (host_policy_book and team_book keep their rules): every record
  // of a kind, and a local write of one (mirrored like a service record; nullptr deletes).
  const std::map<std::string, nlohmann::json>& records_of(record_kind kind) const;
  common::result<void> put_record(record_kind kind, const std::string& id,
                                  const nlohmann::json* record) {
    return write(kind, id, record);
  }

  // With etcd (docs/ha.md): every local change is also handed to the mirror (record nullptr for
  // a deletion), which writes it to etcd; the other brokers apply it with apply_remote from
  // their watch. apply_remote writes the local store only (no mirror, so no echo), changes
  // nothing when the record is already held, and refuses a record whose id is not `id`.
  // `name`: the record's name claim ("" for a kind without names; see name_claim), which etcd
  // holds beside the record so that a name is unique across brokers.
  using mirror_fn = std::function<void(record_kind kind, const std::string& id,
                                       const nlohmann::json* record, const std::string& name)>;
  void set_mirror(mirror_fn fn) { mirror_ = std::move(fn); }
  bool apply_remote(record_kind kind, const std::string& id, const nlohmann::json* record);
  // After a snapshot of etcd: forgets (here and in the local store) every record of that kind
  // not in `ids`, i.e. deleted while this broker was not watching. Not mirrored.
  void keep_only(record_kind kind, const std::set<std::string>& ids);
  // etcd refused a local write (its name belongs to another record): the record goes from here
  // and the local store, not mirrored; the holder's record comes from the watch.
  void withdraw(record_kind kind, const std::string& id) { (void)apply(kind, id, nullptr); }
  // The key below services/ that makes a record's name unique in its scope: "n/p/<owner>/<name>"
  // for a project (unique per user), "n/s/<project id>/<name>" for a service; "" for the other
  // kinds.
  static std::string name_claim(record_kind kind, const nlohmann::json& record);

  // An id for a new record: a prefix and 16 hex digits of a hash of the request id.
  static std::string derive_id(char prefix, const std::string& request_id);

 private:
  common::result<const nlohmann::json*> find_project(const service_caller& who,
                                                     const std::string& ref) const;
  common::result<const nlohmann::json*> find_service(const service_caller& who,
                                                     const std::string& ref) const;
  common::result<nlohmann::json> store_service(nlohmann::json record);
  std::map<std::string, nlohmann::json>& records(record_kind kind);
  common::result<void> write(record_kind kind, const std::string& id, const nlohmann::json* record);
  common::result<void> apply(record_kind kind, const std::string& id, const nlohmann::json* record);

  service_store& store_;
  std::map<std::string, nlohmann::json> projects_;  // by id
  std::map<std::string, nlohmann::json> services_;  // by id
  std::map<std::string, nlohmann::json> policies_;  // host policies, by fqdn
  std::map<std::string, nlohmann::json> quotas_;    // by user id
  std::map<std::string, nlohmann::json> teams_;     // by team name
  std::uint64_t revision_ = 1;
  mirror_fn mirror_;
};

}  // namespace dockmesh::broker
