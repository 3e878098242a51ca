#include "broker/service_store.hpp"

#include <vector>

namespace dockmesh::broker {

std::string_view record_prefix(record_kind kind) {
  switch (kind) {
    case record_kind::project:
      return "p/";
    case record_kind::service:
      return "s/";
    case record_kind::host_policy:
      return "h/";
    case record_kind::quota:
      return "q/";
    case record_kind::team:
      return "t/";
  }
  return "s/";
}

std::optional<record_kind> record_kind_of(std::string_view key) {
  for (auto k : all_record_kinds)
    if (key.size() > 2 && key.substr(0, 2) == record_prefix(k)) return k;
  return std::nullopt;
}

// In RocksDB the records live below "r/": the broker's other tables use one-letter prefixes
// of their own (h/ hosts, p/ placements, t/ join tokens, ...), which a record kind's would meet.
std::string rocks_service_store::key(record_kind kind, std::string_view id) {
  return "r/" + std::string(record_prefix(kind)) + std::string(id);
}

// Projects and services were kept at p/<id> and s/<id> before: beside the placements (p/),
// whose start-up sweep took a project for a stale placement and erased it. They move once.
rocks_service_store::rocks_service_store(state_db& db) : db_(db) {
  for (auto kind : {record_kind::project, record_kind::service}) {
    std::vector<nlohmann::json> found;
    db_.for_each(record_prefix(kind), [&](std::string_view, const nlohmann::json& v) {
      if (v.is_object() && v.contains("id") && v["id"].is_string() && !v.contains("hosts"))
        found.push_back(v);
    });
    for (const auto& v : found) {
      std::string id = v["id"];
      if (db_.put(key(kind, id), v, true))
        (void)db_.erase(std::string(record_prefix(kind)) + id, true);
    }
  }
}

common::result<void> rocks_service_store::put(record_kind kind, const std::string& id,
                                              const nlohmann::json& record) {
  return db_.put(key(kind, id), record, true);
}

common::result<void> rocks_service_store::erase(record_kind kind, const std::string& id) {
  return db_.erase(key(kind, id), true);
}

void rocks_service_store::load(record_kind kind,
                               const std::function<void(const nlohmann::json&)>& fn) const {
  db_.for_each(key(kind, ""), [&](std::string_view, const nlohmann::json& v) {
    if (v.is_object() && v.contains("id")) fn(v);
  });
}

}  // namespace dockmesh::broker
