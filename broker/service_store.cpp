#include "broker/service_store.hpp"

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

std::string rocks_service_store::key(record_kind kind, std::string_view id) {
  return std::string(record_prefix(kind)) + std::string(id);
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
