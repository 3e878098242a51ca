// job_runner: runs the asynchronous jobs behind `POST /api/v1/containers`,
// `POST /api/v1/images/pull` and a `PATCH /api/v1/services/{id}` that starts a rolling update.
// A create job sends create-container (req/any/ or the given host), then waits until the new
// containers show in the brokers' directory, so that the job's 303 to /api/v1/containers/<id>
// lands on something that exists. A pull job sends pull-image to each named host (targeted
// requests; the bridge never broadcasts) and follows each host's progress from the agents' pull
// events on evt/host/<fqdn>/. A service-update job follows the rollout (service_update_job.hpp)
// from the reconciler's service-reconcile events on dir/ and a service-get every second, until
// it ends or its deadline passes. Every change is stored (job_store) and pushed to the owner's
// WebSocket sessions (event_hub). Entry points run on handler threads; completions and on_event
// on the bus thread; directory and service polling on asio timers. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <nlohmann/json.hpp>

#include "ui-bridge/authenticator.hpp"
#include "ui-bridge/event_hub.hpp"
#include "ui-bridge/job_store.hpp"
#include "ui-bridge/message_gateway.hpp"

namespace dockmesh::bridge {

struct pull_request {
  std::string image;
  nlohmann::json auth;             // optional registry credentials, passed through
  std::vector<std::string> hosts;  // distinct fqdns
  bool pools = false;  // no hosts named: every up host of the caller's pools and the shared pool
  std::vector<std::string> teams;  // with pools: the caller's teams (team-list), for pool_admits
};
// {image, hosts?: [...] | "pools", auth?}: hosts, when a list, non-empty, at most 256, each a
// valid fqdn; left out or "pools", the hosts are chosen from the directory when the job starts.
common::result<pull_request> parse_pull_request(const nlohmann::json& body,
                                                const schema_registry& schemas);
// The ids of the containers a create-container reply reports.
std::vector<std::string> created_ids(const nlohmann::json& reply_body);
// Folds one agent pull-progress event ({status, layer, current, total}) into a host's progress:
// per-layer byte counts, summed into the host's current/total.
void apply_pull_progress(nlohmann::json& host_progress, const nlohmann::json& event);
// "busybox" -> "busybox:latest"; a digest or an explicit tag is kept.
std::string normalize_image(std::string_view image);

class job_runner {
 public:
  job_runner(job_store& jobs, message_gateway& gateway, event_hub& events,
             boost::asio::any_io_executor timers);

  common::result<job> start_create(const principal& who, const nlohmann::json& message,
                                   std::string request_id = {});
  common::result<job> start_pull(const principal& who, const nlohmann::json& request);
  // `record`: what the PATCH that bumped the service's generation answered.
  common::result<job> start_service_update(const principal& who, const nlohmann::json& record);
  void on_event(const common::bus_message& m);  // bus thread

 private:
  void finish_create(const std::string& job_id, common::result<common::envelope> reply);
  void await_directory(const std::string& job_id, std::vector<std::string> ids,
                       std::chrono::steady_clock::time_point deadline);
  // With `pools` for a user: asks the broker for the user's teams first.
  void list_hosts(const std::string& job_id, const principal& who, pull_request req);
  void begin_pulls(const std::string& job_id, const principal& who, pull_request req,
                   common::result<common::envelope> hosts_reply);
  void host_pulled(const std::string& job_id, const std::string& host,
                   common::result<common::envelope> reply);
  void changed(const std::optional<job>& j);
  struct followed_update {
    principal who;
    std::string service;
  };
  void poll_update(const std::string& job_id);
  void update_polled(const std::string& job_id, common::result<common::envelope> reply);
  void on_reconcile(const common::bus_message& m);
  // Applies `step` to a running service-update job; stores and pushes it only if it changed.
  std::optional<job> advance_update(const std::string& job_id,
                                    const std::function<void(job&)>& step);
  void forget_update(const std::string& job_id);

  job_store& jobs_;
  message_gateway& gateway_;
  event_hub& events_;
  boost::asio::any_io_executor timers_;
  std::mutex mutex_;
  std::map<std::string, std::set<std::string>> pulls_by_image_;  // image -> running job ids
  std::map<std::string, std::chrono::steady_clock::time_point> last_progress_;  // job/host
  std::map<std::string, followed_update> updates_;  // running service-update jobs by job id
};

}  // namespace dockmesh::bridge
