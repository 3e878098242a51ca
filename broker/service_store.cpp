#include "broker/service_store.hpp"

namespace dockmesh::broker {

std::string rocks_service_store::key(record_kind kind, std::string_view id) {
  return (kind == record_kind::project ? "p/" : "s/") + std::string(id);
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
