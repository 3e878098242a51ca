#include "ui-bridge/event_hub.hpp"

#include "common/json_fields.hpp"

#include <vector>
#include "common/protocol/catalogue.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::bridge {

namespace {

constexpr const char* owner_label = "dockmesh.owner";

std::optional<std::string> string_at(const nlohmann::json& j, const char* key) {
  return common::str_if(j, key);
}

// Docker events carry labels among the actor's attributes; directory records carry "owner".
std::optional<std::string> owner_in(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  if (auto o = string_at(j, "owner")) return o;
  for (const char* k : {"attributes", "labels"})
    if (auto o = string_at(j.value(k, nlohmann::json()), owner_label)) return o;
  if (j.contains("actor") && j["actor"].is_object()) return owner_in(j["actor"]);
  return std::nullopt;
}

// What a message is about, from its catalogue entry: a dir/ event names its subject, a stream
// (pull-progress) is about an image; a Docker event says so in its body's "type".
std::string_view subject_of(const std::string& action) {
  const auto* spec = common::protocol::catalogue::builtin().find(action);
  return spec ? std::string_view(spec->subject) : std::string_view();
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

event_facts facts_of(const common::bus_message& m) {
  namespace names = common::protocol::names;
  event_facts f;
  const auto& body = m.env.body;
  std::string type = string_at(body, "type").value_or("");
  std::string_view subject = subject_of(m.env.action);
  if (type == "image" || subject == "image") {
    f.about_image = true;
    f.puller = m.env.user;
    return f;
  }
  const nlohmann::json* c = &body;
  if (body.is_object() && body.contains("container") && body["container"].is_object())
    c = &body["container"];
  // A service's reconcile step names its owner as a container record does: only theirs.
  f.about_container =
      c != &body || type == "container" || subject == "container" || subject == "service";
  if (!f.about_container) return f;
  f.container_id = string_at(*c, "id").value_or(string_at(body, "container_id").value_or(""));
  f.owner = owner_in(*c);
  if (!f.owner && c != &body) f.owner = owner_in(body);
  // Gone: the directory's container-removed, or Docker's destroy event.
  f.removed = m.env.action == names::container_removed ||
              string_at(body, "action").value_or("") == "destroy" ||
              string_at(body, "status").value_or("") == "destroy";
  return f;
}

event_hub::event_hub(std::size_t owner_cache) : owner_cache_(owner_cache) {}

std::uint64_t event_hub::subscribe(const std::string& user, bool admin, event_sink sink) {
  std::lock_guard lock(mutex_);
  auto id = next_id_++;
  subs_.emplace(id, subscriber{user, admin, std::move(sink)});
  return id;
}

void event_hub::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  subs_.erase(id);
}

std::size_t event_hub::subscribers() const {
  std::lock_guard lock(mutex_);
  return subs_.size();
}

void event_hub::remember(const event_facts& f) {
  if (f.container_id.empty()) return;
  if (f.removed) {
    owners_.erase(f.container_id);  // its slot in owner_order_ ages out harmlessly
    return;
  }
  if (!f.owner || owners_.count(f.container_id)) return;
  owners_[f.container_id] = *f.owner;
  owner_order_.push_back(f.container_id);
  while (owner_order_.size() > owner_cache_) {
    owners_.erase(owner_order_.front());
    owner_order_.pop_front();
  }
}

std::optional<std::string> event_hub::known_owner(const std::string& container_id) const {
  std::lock_guard lock(mutex_);
  auto it = owners_.find(container_id);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

void event_hub::publish_bus(const common::bus_message& m) {
  if (m.env.action == common::protocol::names::broker_heartbeat)
    return;  // brokers' own liveness: nothing for a UI
  auto facts = facts_of(m);
  nlohmann::json out = {{"type", "event"}, {"topic", m.topic}, {"event", common::to_json(m.env)}};
  auto text = std::make_shared<const std::string>(dump(out));
  std::vector<event_sink> targets;
  {
    std::lock_guard lock(mutex_);
    auto owner = facts.owner;
    if (facts.about_container && !owner && owners_.count(facts.container_id))
      owner = owners_[facts.container_id];
    remember(facts);
    for (auto& [id, s] : subs_)
      if (s.admin || (facts.about_image ? !facts.puller.empty() && facts.puller == s.user
                                        : !facts.about_container || (owner && *owner == s.user)))
        targets.push_back(s.sink);
  }
  for (auto& sink : targets) sink(text);
}

void event_hub::publish_job(const job& j) {
  auto text = std::make_shared<const std::string>(dump({{"type", "job"}, {"job", to_json(j)}}));
  std::vector<event_sink> targets;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : subs_)
      if (s.user == j.user) targets.push_back(s.sink);
  }
  for (auto& sink : targets) sink(text);
}

}  // namespace dockmesh::bridge
