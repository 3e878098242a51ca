#include "ui-bridge/job_runner.hpp"
#include "ui-bridge/json_fields.hpp"

#include <boost/asio/steady_timer.hpp>

#include "common/protocol/names.hpp"
#include "common/topic.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;
namespace names = common::protocol::names;
using namespace std::chrono_literals;

namespace {

constexpr auto directory_wait = 10s;
constexpr auto directory_poll = 200ms;

void fail(job& j, int status, const common::error& e) {
  j.state = job_state::failed;
  j.status = status;
  j.err = e;
}

}  // namespace

std::string normalize_image(std::string_view image) {
  std::string s(image);
  if (s.find('@') != std::string::npos) return s;
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) s += ":latest";
  return s;
}

std::vector<std::string> created_ids(const nlohmann::json& body) {
  // Agents and the scheduling broker both answer {"containers": [{"id": ...}, ...]}.
  std::vector<std::string> out;
  if (!body.is_object() || !body.contains("containers") || !body["containers"].is_array())
    return out;
  for (const auto& c : body["containers"])
    if (c.is_object() && c.value("id", nlohmann::json()).is_string())
      out.push_back(c["id"].get<std::string>());
  return out;
}

common::result<pull_request> parse_pull_request(const nlohmann::json& body,
                                                const schema_registry& schemas) {
  if (!body.is_object())
    return make_error(errc::invalid_argument,
                      "the request must be {\"image\": ..., \"hosts\": [...]}");
  pull_request req;
  nlohmann::json args = {{"image", body.value("image", nlohmann::json())}};
  if (body.contains("auth")) args["auth"] = body["auth"];
  if (auto ok = schemas.validate(std::string(names::pull_image), args); !ok) return ok.err();
  req.image = args["image"].get<std::string>();
  req.auth = body.value("auth", nlohmann::json());
  auto hosts = body.find("hosts");
  if (hosts == body.end() || (hosts->is_string() && hosts->get<std::string>() == "pools")) {
    req.pools = true;
    return req;
  }
  if (!hosts->is_array() || hosts->empty() || hosts->size() > 256)
    return make_error(errc::invalid_argument,
                      "hosts: give an array of 1 to 256 host names, or \"pools\"");
  std::set<std::string> seen;
  for (const auto& h : *hosts) {
    if (!h.is_string() || !common::valid_segment(h.get<std::string>()))
      return make_error(errc::invalid_argument, "hosts: every entry must be an fqdn");
    if (seen.insert(h.get<std::string>()).second) req.hosts.push_back(h.get<std::string>());
  }
  return req;
}

job_runner::job_runner(job_store& jobs, message_gateway& gateway, event_hub& events,
                       boost::asio::any_io_executor timers)
    : jobs_(jobs), gateway_(gateway), events_(events), timers_(std::move(timers)) {}

void job_runner::changed(const std::optional<job>& j) {
  if (j) events_.publish_job(*j);
}

common::result<job> job_runner::start_create(const principal& who, const nlohmann::json& message,
                                             std::string request_id) {
  if (!message.is_object())
    return make_error(errc::invalid_argument, "the request must be a JSON object");
  nlohmann::json msg = message;
  const std::string create(names::create_container);
  if (text_of(msg, "action", create) != create)
    return make_error(errc::invalid_argument, "action: this endpoint only creates containers");
  msg["action"] = create;
  auto plan = plan_message(msg, gateway_.schemas(), who);
  if (!plan) return plan.err();
  plan->request_id = std::move(request_id);
  auto j = jobs_.create(create, who.user_id, common::now_ms());
  if (!j) return j.err();
  std::string id = j->id;
  changed(jobs_.update(id, common::now_ms(), [&](job& x) {
    x.progress = {{"stage", "sent"}, {"host", plan->host.empty() ? "(scheduler)" : plan->host}};
  }));
  gateway_.send_plan(who, std::move(*plan), [this, id](common::result<common::envelope> r) {
    finish_create(id, std::move(r));
  });
  return *jobs_.get(id, common::now_ms());
}

void job_runner::finish_create(const std::string& job_id, common::result<common::envelope> r) {
  if (!r || r->code >= 300) {
    changed(jobs_.update(job_id, common::now_ms(), [&](job& j) {
      if (!r) return fail(j, common::to_status(r.err().code), r.err());
      j.result = reply_json(*r);
      fail(j, reply_status(*r),
           r->err ? *r->err : make_error(common::from_status(r->code), "the create failed"));
    }));
    return;
  }
  auto ids = created_ids(r->body);
  changed(jobs_.update(job_id, common::now_ms(), [&](job& j) {
    j.result = r->body;
    j.status = r->code;
    j.progress["stage"] = "created";
    j.progress["containers"] = ids;
    j.progress["host"] = r->from;
  }));
  await_directory(job_id, std::move(ids), std::chrono::steady_clock::now() + directory_wait);
}

void job_runner::await_directory(const std::string& job_id, std::vector<std::string> ids,
                                 std::chrono::steady_clock::time_point deadline) {
  if (ids.empty() || std::chrono::steady_clock::now() >= deadline) {
    changed(jobs_.update(job_id, common::now_ms(), [&](job& j) {
      j.state = job_state::done;
      auto all = j.progress.value("containers", nlohmann::json::array());
      j.progress["stage"] = ids.empty() ? "listed" : "created (not yet in the directory)";
      if (all.size() == 1) j.location = "/api/v1/containers/" + all[0].get<std::string>();
    }));
    return;
  }
  gateway_.control(std::string(names::container), {{"ref", ids.front()}},
                   [this, job_id, ids, deadline](common::result<common::envelope> r) mutable {
                     if (r && r->code == 200) {
                       ids.erase(ids.begin());
                       return await_directory(job_id, std::move(ids), deadline);
                     }
                     auto t = std::make_shared<boost::asio::steady_timer>(timers_, directory_poll);
                     t->async_wait([this, t, job_id, ids, deadline](auto ec) mutable {
                       if (!ec) await_directory(job_id, std::move(ids), deadline);
                     });
                   });
}

}  // namespace dockmesh::bridge
