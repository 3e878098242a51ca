#include "broker/request_gate.hpp"

#include "common/protocol/names.hpp"

#include <ctime>

namespace dockmesh::broker {
namespace {

using nlohmann::json;

std::string utc(std::int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The names a create-container will give its containers (see agent/container_spec.cpp).
std::vector<std::string> names_of(const json& body) {
  std::vector<std::string> out;
  auto name = body.find("name");
  if (name == body.end() || !name->is_string() || name->get<std::string>().empty()) return out;
  std::string base = name->get<std::string>();
  if (base.front() == '/') base.erase(0, 1);
  auto count = body.value("instances", json(1));
  auto first = body.value("first_instance", json(0));
  int n = count.is_number_integer() ? std::clamp(count.get<int>(), 1, 1000) : 1;
  int f = first.is_number_integer() ? first.get<int>() : 0;
  if (f <= 0 && n == 1) return {base};
  for (int i = 0; i < n; ++i) out.push_back(base + "-" + std::to_string((f > 0 ? f : 1) + i));
  return out;
}

}  // namespace

std::string host_down_message(const host_entry& h) {
  std::string m = "host " + h.fqdn + " is " + std::string(to_string(h.status)) + " since " +
                  utc(h.status_since);
  if (!h.reason.empty()) m += " (" + h.reason + ")";
  return m;
}

std::optional<gate_refusal> check_name_free(const common::envelope& req,
                                            const container_index& containers) {
  if (req.action != common::protocol::names::create_container || !req.body.is_object())
    return std::nullopt;
  if (req.body.value("per_host_names", json(false)) == json(true)) return std::nullopt;
  for (const auto& n : names_of(req.body)) {
    const container_entry* c = containers.find_name(n);
    if (!c) continue;
    // A retry of the request that made it is not a conflict: the agent answers it from its cache.
    if (!c->request.empty() && (c->request == req.id || c->request.rfind(req.id + "-", 0) == 0))
      continue;
    return gate_refusal{409,
                        "the name '" + n + "' is taken: host " + c->host + " has it" +
                            " (names are unique in the mesh; give per_host_names: true to allow"
                            " the same name on another host)",
                        {{"name", n}, {"host", c->host}}};
  }
  return std::nullopt;
}

std::optional<gate_refusal> check_targeted(std::string_view host, const common::envelope& req,
                                           const host_directory& hosts,
                                           const container_index& containers, bool settled) {
  if (req.is_reply()) return std::nullopt;
  const host_entry* h = hosts.find(host);
  if (!h) {
    if (!settled) return std::nullopt;
    return gate_refusal{
        404, "host " + std::string(host) + " is not known to the directory", {{"host", host}}};
  }
  if (h->status != host_status::up)
    return gate_refusal{
        503,
        host_down_message(*h),
        {{"host", h->fqdn}, {"status", to_string(h->status)}, {"since", h->status_since}}};
  return check_name_free(req, containers);
}

}  // namespace dockmesh::broker
