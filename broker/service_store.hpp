// service_store: where project and service records are kept (docs/services.md). An interface so
// that one broker keeps them in its RocksDB (rocks_service_store, keys p/<id> and s/<id>) and
// brokers in HA keep them in the consensus store. Records are JSON objects (schemas/
// project-create.reply.json, service-create.reply.json). Owned by the hub thread; writes are
// synchronous RocksDB writes, which the control endpoint makes durable before it answers.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "broker/state_db.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

// host_policy, quota and team (broker/host_policy.hpp, team_book.hpp) ride the same store and
// the same etcd path.
enum class record_kind { project, service, host_policy, quota, team };
// Every kind, in the order a snapshot is applied.
inline constexpr record_kind all_record_kinds[] = {record_kind::project, record_kind::service,
                                                   record_kind::host_policy, record_kind::quota,
                                                   record_kind::team};

// "p/", "s/", "h/", "q/", "t/": the key prefix of a kind below <prefix>services/ in etcd; in
// RocksDB below "r/" (r/p/<id>, ...).
std::string_view record_prefix(record_kind kind);
// The kind a key ("h/host1.mesh.test") names; nullopt for anything else.
std::optional<record_kind> record_kind_of(std::string_view key);

class service_store {
 public:
  virtual ~service_store() = default;
  virtual common::result<void> put(record_kind kind, const std::string& id,
                                   const nlohmann::json& record) = 0;
  virtual common::result<void> erase(record_kind kind, const std::string& id) = 0;
  // Calls fn for every stored record of that kind (start-up).
  virtual void load(record_kind kind,
                    const std::function<void(const nlohmann::json&)>& fn) const = 0;
};

class rocks_service_store final : public service_store {
 public:
  // Moves records kept under an earlier layout (p/<id>, s/<id>) to their keys (r/p/<id>, ...).
  explicit rocks_service_store(state_db& db);
  common::result<void> put(record_kind kind, const std::string& id,
                           const nlohmann::json& record) override;
  common::result<void> erase(record_kind kind, const std::string& id) override;
  void load(record_kind kind, const std::function<void(const nlohmann::json&)>& fn) const override;

 private:
  static std::string key(record_kind kind, std::string_view id);
  state_db& db_;
};

}  // namespace dockmesh::broker
