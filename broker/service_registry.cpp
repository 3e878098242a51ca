#include "broker/service_registry.hpp"

#include <cstdio>

#include "common/service_spec.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;

bool visible(const service_caller& who, const json& record) {
  return who.admin || record.value("owner", "") == who.user;
}

}  // namespace

service_registry::service_registry(service_store& store) : store_(store) {
  store_.load(record_kind::project,
              [&](const json& r) { projects_[r["id"].get<std::string>()] = r; });
  store_.load(record_kind::service,
              [&](const json& r) { services_[r["id"].get<std::string>()] = r; });
  store_.load(record_kind::host_policy,
              [&](const json& r) { policies_[r["id"].get<std::string>()] = r; });
  store_.load(record_kind::quota, [&](const json& r) { quotas_[r["id"].get<std::string>()] = r; });
  store_.load(record_kind::team, [&](const json& r) { teams_[r["id"].get<std::string>()] = r; });
}

std::string service_registry::derive_id(char prefix, const std::string& request_id) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across brokers and restarts
  for (unsigned char c : request_id) h = (h ^ c) * 1099511628211ull;
  char buf[20];
  std::snprintf(buf, sizeof buf, "%c%016llx", prefix, static_cast<unsigned long long>(h));
  return buf;
}

const json* service_registry::project(const std::string& id) const {
  auto it = projects_.find(id);
  return it == projects_.end() ? nullptr : &it->second;
}

common::result<const json*> service_registry::find_project(const service_caller& who,
                                                           const std::string& ref) const {
  auto it = projects_.find(ref);
  if (it != projects_.end() && visible(who, it->second)) return &it->second;
  // By name: among the projects of the user the call acts for.
  for (const auto& [id, p] : projects_)
    if (p.value("name", "") == ref && p.value("owner", "") == who.user) return &p;
  return make_error(errc::not_found, "no project '" + ref + "'");
}

common::result<const json*> service_registry::find_service(const service_caller& who,
                                                           const std::string& ref) const {
  auto it = services_.find(ref);
  if (it != services_.end() && visible(who, it->second)) return &it->second;
  auto slash = ref.find('/');
  if (slash != std::string::npos) {
    auto p = find_project(who, ref.substr(0, slash));
    if (p) {
      std::string pid = (**p)["id"], name = ref.substr(slash + 1);
      for (const auto& [id, s] : services_)
        if (s.value("project", "") == pid && s.value("name", "") == name) return &s;
    }
  }
  return make_error(errc::not_found, "no service '" + ref + "'");
}

common::result<json> service_registry::create_project(const service_caller& who,
                                                      const std::string& name,
                                                      const std::string& id, std::int64_t now_ms) {
  if (!common::valid_object_name(name))
    return make_error(errc::invalid_argument, "name: lower case letters, digits and '-', 1 to 31");
  if (auto same = projects_.find(id); same != projects_.end()) return same->second;  // a retry
  for (const auto& [pid, p] : projects_)
    if (p.value("owner", "") == who.user && p.value("name", "") == name)
      return make_error(errc::conflict, "you already have a project named '" + name + "'");
  json record = {{"id", id}, {"name", name}, {"owner", who.user}, {"created", now_ms}};
  if (auto w = write(record_kind::project, id, &record); !w) return w.err();
  return record;
}

json service_registry::list_projects(const service_caller& who) const {
  json out = json::array();
  for (const auto& [id, p] : projects_)
    if (visible(who, p)) out.push_back(p);
  return out;
}

common::result<json> service_registry::delete_project(const service_caller& who,
                                                      const std::string& ref) {
  auto p = find_project(who, ref);
  if (!p) return p.err();
  std::string id = (**p)["id"];
  for (const auto& [sid, s] : services_)
    if (s.value("project", "") == id)
      return make_error(errc::conflict,
                        "project '" + ref + "' still has services; delete them first");
  if (auto w = write(record_kind::project, id, nullptr); !w) return w.err();
  return json{{"id", id}, {"deleted", true}};
}

common::result<json> service_registry::create_service(const service_caller& who,
                                                      const std::string& project,
                                                      const std::string& name, const json& spec,
                                                      const std::string& id, std::int64_t now_ms) {
  if (!common::valid_object_name(name))
    return make_error(errc::invalid_argument, "name: lower case letters, digits and '-', 1 to 31");
  if (auto same = services_.find(id); same != services_.end()) return same->second;  // a retry
  auto p = find_project(who, project);
  if (!p) return p.err();
  auto full = common::check_service_spec(spec);
  if (!full) return full.err();
  std::string pid = (**p)["id"];
  for (const auto& [sid, s] : services_)
    if (s.value("project", "") == pid && s.value("name", "") == name)
      return make_error(errc::conflict,
                        "project '" + project + "' already has a service named '" + name + "'");
  return store_service({{"id", id},
                        {"name", name},
                        {"project", pid},
                        {"project_name", (**p)["name"]},
                        {"owner", (**p)["owner"]},
                        {"spec", std::move(*full)},
                        {"generation", 1},
                        {"created", now_ms},
                        {"updated", now_ms}});
}

common::result<json> service_registry::store_service(json record) {
  std::string id = record["id"];
  record["version"] = record.value("version", std::int64_t{0}) + 1;
  if (auto w = write(record_kind::service, id, &record); !w) return w.err();
  return record;
}

common::result<json> service_registry::list_services(const service_caller& who,
                                                     const std::string& project) const {
  std::string pid;
  if (!project.empty()) {
    auto p = find_project(who, project);
    if (!p) return p.err();
    pid = (**p)["id"];
  }
  json out = json::array();
  for (const auto& [id, s] : services_)
    if (visible(who, s) && (pid.empty() || s.value("project", "") == pid)) out.push_back(s);
  return out;
}

common::result<json> service_registry::get_service(const service_caller& who,
                                                   const std::string& ref) const {
  auto s = find_service(who, ref);
  if (!s) return s.err();
  return **s;
}

common::result<json> service_registry::update_service(const service_caller& who,
                                                      const std::string& ref, const json& patch,
                                                      std::int64_t now_ms) {
  auto s = find_service(who, ref);
  if (!s) return s.err();
  auto merged = common::merge_service_spec((**s)["spec"], patch);
  if (!merged) return merged.err();
  json record = **s;
  if (record["spec"] == *merged) return record;  // nothing changed: no new generation
  // generation counts container changes (what a rolling update rolls out), not scaling.
  if (common::container_spec_differs(record["spec"], *merged)) {
    // The spec a failed rolling update goes back to (docs/services.md "Rollback").
    record["previous_spec"] = record["spec"];
    record["previous_generation"] = record.value("generation", std::int64_t{1});
    record["previous_same"] = record.value("same_generations", json::array());
    record["same_generations"] = json::array();
    record["generation"] = record.value("generation", std::int64_t{1}) + 1;
    record.erase("update_status");
  }
  record["spec"] = std::move(*merged);
  record["updated"] = now_ms;
  return store_service(std::move(record));
}

common::result<json> service_registry::fail_update(const std::string& id, const std::string& error,
                                                   std::int64_t now_ms) {
  auto it = services_.find(id);
  if (it == services_.end()) return make_error(errc::not_found, "no service " + id);
  json record = it->second;
  std::int64_t failed = record.value("generation", std::int64_t{1});
  const json spec = record.value("spec", json::object());
  bool back = spec.value("update", json::object()).value("rollback", true) &&
              record.contains("previous_spec") && record["previous_spec"].is_object();
  if (!back) {
    record["update_status"] = {{"state", "paused"}, {"generation", failed}, {"error", error}};
  } else {
    // A new generation that runs what the previous one ran: its replicas stay as they are.
    json same = record.value("previous_same", json::array());
    same.push_back(record.value("previous_generation", std::int64_t{1}));
    json restored = common::with_container_fields(spec, record["previous_spec"]);
    record["previous_spec"] = spec;
    record["previous_generation"] = failed;
    record["previous_same"] = record.value("same_generations", json::array());
    record["same_generations"] = std::move(same);
    record["spec"] = std::move(restored);
    record["generation"] = failed + 1;
    record["update_status"] = {{"state", "rolled-back"},
                               {"generation", failed + 1},
                               {"failed_generation", failed},
                               {"error", error}};
  }
  record["updated"] = now_ms;
  return store_service(std::move(record));
}

common::result<json> service_registry::scale_service(const service_caller& who,
                                                     const std::string& ref, std::int64_t replicas,
                                                     std::int64_t now_ms) {
  if (replicas < 0 || replicas > 1000)
    return make_error(errc::invalid_argument, "replicas must be between 0 and 1000");
  return update_service(who, ref, {{"replicas", replicas}}, now_ms);
}

common::result<json> service_registry::delete_service(const service_caller& who,
                                                      const std::string& ref) {
  auto s = find_service(who, ref);
  if (!s) return s.err();
  std::string id = (**s)["id"];
  if (auto w = write(record_kind::service, id, nullptr); !w) return w.err();
  return json{{"id", id}, {"deleted", true}};
}

std::map<std::string, json>& service_registry::records(record_kind kind) {
  switch (kind) {
    case record_kind::project:
      return projects_;
    case record_kind::service:
      return services_;
    case record_kind::host_policy:
      return policies_;
    case record_kind::quota:
      return quotas_;
    case record_kind::team:
      return teams_;
  }
  return services_;
}

const std::map<std::string, json>& service_registry::records_of(record_kind kind) const {
  return const_cast<service_registry*>(this)->records(kind);
}

// Every local change: the store, the map, the revision, then the mirror (etcd), so that the
// other brokers learn it from their watch.
common::result<void> service_registry::write(record_kind kind, const std::string& id,
                                             const json* record) {
  std::string name;
  if (mirror_) {  // a deletion releases the name the record held
    auto& map = records(kind);
    auto it = map.find(id);
    if (record || it != map.end()) name = name_claim(kind, record ? *record : it->second);
  }
  if (auto w = apply(kind, id, record); !w) return w;
  if (mirror_) mirror_(kind, id, record, name);
  return {};
}

std::string service_registry::name_claim(record_kind kind, const json& record) {
  if (!record.is_object()) return "";
  if (kind == record_kind::project)
    return "n/p/" + record.value("owner", "") + "/" + record.value("name", "");
  if (kind == record_kind::service)
    return "n/s/" + record.value("project", "") + "/" + record.value("name", "");
  return "";
}

common::result<void> service_registry::apply(record_kind kind, const std::string& id,
                                             const json* record) {
  auto& map = records(kind);
  auto it = map.find(id);
  if (record && it != map.end() && it->second == *record) return {};
  if (!record && it == map.end()) return {};
  auto w = record ? store_.put(kind, id, *record) : store_.erase(kind, id);
  if (!w) return w;
  if (record)
    map[id] = *record;
  else
    map.erase(it);
  ++revision_;
  return {};
}

bool service_registry::apply_remote(record_kind kind, const std::string& id, const json* record) {
  if (record && (!record->is_object() || record->value("id", "") != id)) return false;
  // The watch may bring back this broker's own earlier write after a newer one (scale, then
  // update): an older version is not taken. Equal versions (two brokers wrote at once) take
  // what etcd ordered last, so every broker ends with the same record.
  auto& map = records(kind);
  if (auto it = map.find(id);
      record && it != map.end() &&
      record->value("version", std::int64_t{0}) < it->second.value("version", std::int64_t{0}))
    return true;
  auto w = apply(kind, id, record);
  return w.ok();
}

void service_registry::keep_only(record_kind kind, const std::set<std::string>& ids) {
  std::vector<std::string> gone;
  for (const auto& [id, r] : records(kind))
    if (!ids.count(id)) gone.push_back(id);
  for (const auto& id : gone) (void)apply(kind, id, nullptr);
}

}  // namespace dockmesh::broker
