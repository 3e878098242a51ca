// action_args: the typed arguments of every bus action (the `body` of a request envelope), one
// struct per schemas/<action>.json with the same field names (the `fields` list of each struct is
// what the conformance test compares with the schema's properties, and what the parser uses to
// refuse unknown fields). parse_*() checks JSON types, required fields and numeric ranges and
// names the offending field; Docker grammar (ids, image references, env entries...) is checked by
// the agent on top. Written by the agent engineer; pure functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dockmesh::common {

template <std::size_t N>
using field_list = std::array<std::string_view, N>;

struct empty_args {  // ping, host-info, disk-usage
  static constexpr field_list<0> fields{};
  bool operator==(const empty_args&) const = default;
};
using ping_args = empty_args;
using host_info_args = empty_args;
using disk_usage_args = empty_args;

struct list_containers_args {
  static constexpr field_list<4> fields{"all", "label", "name", "status"};
  bool all = true;
  std::string label;   // "key" or "key=value"
  std::string name;    // substring match, as Docker does
  std::string status;  // created, restarting, running, removing, paused, exited, dead
  bool operator==(const list_containers_args&) const = default;
};

struct container_ref_args {  // inspect-container, start-container, container-stats
  static constexpr field_list<1> fields{"id"};
  std::string id;  // container id, id prefix or name
  bool operator==(const container_ref_args&) const = default;
};
using inspect_container_args = container_ref_args;
using start_container_args = container_ref_args;
using container_stats_args = container_ref_args;

struct stop_container_args {  // stop-container, restart-container
  static constexpr field_list<2> fields{"id", "timeout"};
  std::string id;
  std::int64_t timeout = 10;  // seconds of grace before SIGKILL, 0..3600
  bool operator==(const stop_container_args&) const = default;
};
using restart_container_args = stop_container_args;

struct kill_container_args {
  static constexpr field_list<2> fields{"id", "signal"};
  std::string id;
  std::string signal = "SIGKILL";
  bool operator==(const kill_container_args&) const = default;
};

struct remove_container_args {  // remove-container, delete-container
  static constexpr field_list<3> fields{"id", "force", "volumes"};
  std::string id;
  bool force = false;    // kill a running container first
  bool volumes = false;  // also remove its anonymous volumes
  bool operator==(const remove_container_args&) const = default;
};
using delete_container_args = remove_container_args;

struct container_logs_args {
  static constexpr field_list<6> fields{"id", "tail", "since", "timestamps", "stdout", "stderr"};
  std::string id;
  std::int64_t tail = -1;  // lines from the end; -1 = "all"
  std::int64_t since = 0;  // unix seconds; 0 = from the start
  bool timestamps = false;
  bool include_stdout = true;  // JSON "stdout" (stdout is a C macro)
  bool include_stderr = true;  // JSON "stderr"
  bool operator==(const container_logs_args&) const = default;
};

struct port_spec {
  static constexpr field_list<4> fields{"container_port", "protocol", "host_port", "host_ip"};
  std::int64_t container_port = 0;  // 1..65535
  std::string protocol = "tcp";     // tcp, udp, sctp
  std::int64_t host_port = 0;       // 0 = exposed only, not published
  std::string host_ip;              // "" = Docker's default
  bool operator==(const port_spec&) const = default;
};

// Docker's health check of a container (HEALTHCHECK): test is ["CMD", arg...],
// ["CMD-SHELL", command] or ["NONE"]; durations in seconds, 0 = Docker's default.
struct healthcheck_spec {
  static constexpr field_list<5> fields{"test", "interval_s", "timeout_s", "retries",
                                        "start_period_s"};
  std::vector<std::string> test;
  std::int64_t interval_s = 0;
  std::int64_t timeout_s = 0;
  std::int64_t retries = 0;
  std::int64_t start_period_s = 0;
  bool operator==(const healthcheck_spec&) const = default;
};

struct create_container_args {
  static constexpr field_list<22> fields{
      "image",        "template",       "name",           "cmd",          "entrypoint", "env",
      "labels",       "working_dir",    "user",           "ports",        "binds",      "volumes",
      "memory",       "cpus",           "restart_policy", "network_mode", "start",      "instances",
      "stop_timeout", "first_instance", "per_host_names", "healthcheck"};
  std::string image;
  std::string template_name;  // JSON "template"
  std::string name;
  std::optional<std::vector<std::string>> cmd;         // absent = the image's default
  std::optional<std::vector<std::string>> entrypoint;  // absent = the image's default
  std::vector<std::string> env;                        // NAME=value
  std::map<std::string, std::string> labels;
  std::string working_dir;
  std::string user;
  std::vector<port_spec> ports;
  std::vector<std::string> binds;    // src:dst[:opts]
  std::vector<std::string> volumes;  // container paths for anonymous volumes
  std::int64_t memory = 0;           // bytes; 0 = no limit
  double cpus = 0;                   // CPUs (0.5 = half a CPU); 0 = no limit
  std::string restart_policy;        // no, always, unless-stopped, on-failure[:N]
  std::string network_mode;          // none, host, bridge, container:<id>, a network name
  bool start = true;
  std::int64_t instances = 1;  // 1..50; names get -1..-N
  // Number of the first instance here (names <name>-<first>..): a scheduled create spread over
  // several hosts numbers its instances 1..N across them. 0 = not given (1).
  std::int64_t first_instance = 0;
  bool per_host_names = false;     // the name need only be unique on its host (brokers check)
  std::int64_t stop_timeout = -1;  // seconds; -1 = Docker's default
  std::optional<healthcheck_spec> healthcheck;  // absent = the image's own
  bool operator==(const create_container_args&) const = default;
};

struct list_images_args {
  static constexpr field_list<2> fields{"all", "reference"};
  bool all = false;       // include intermediate images
  std::string reference;  // filter, e.g. "local/*"
  bool operator==(const list_images_args&) const = default;
};

struct image_ref_args {  // inspect-image
  static constexpr field_list<1> fields{"image"};
  std::string image;  // reference or id
  bool operator==(const image_ref_args&) const = default;
};
using inspect_image_args = image_ref_args;

struct registry_auth {
  static constexpr field_list<3> fields{"username", "password", "server_address"};
  std::string username;
  std::string password;  // never logged, never echoed
  std::string server_address;
  bool operator==(const registry_auth&) const = default;
};

struct pull_image_args {
  static constexpr field_list<2> fields{"image", "auth"};
  std::string image;  // [registry/]name[:tag]; the tag defaults to "latest"
  std::optional<registry_auth> auth;
  bool operator==(const pull_image_args&) const = default;
};

struct remove_image_args {
  static constexpr field_list<3> fields{"image", "force", "noprune"};
  std::string image;
  bool force = false;
  bool noprune = false;
  bool operator==(const remove_image_args&) const = default;
};

// Parsers: a null body counts as {}. Errors are errc::invalid_argument naming the field.
result<empty_args> parse_empty_args(const nlohmann::json& body);
result<list_containers_args> parse_list_containers_args(const nlohmann::json& body);
result<container_ref_args> parse_container_ref_args(const nlohmann::json& body);
result<stop_container_args> parse_stop_container_args(const nlohmann::json& body);
result<kill_container_args> parse_kill_container_args(const nlohmann::json& body);
result<remove_container_args> parse_remove_container_args(const nlohmann::json& body);
result<container_logs_args> parse_container_logs_args(const nlohmann::json& body);
result<create_container_args> parse_create_container_args(const nlohmann::json& body);
result<list_images_args> parse_list_images_args(const nlohmann::json& body);
result<image_ref_args> parse_image_ref_args(const nlohmann::json& body);
result<pull_image_args> parse_pull_image_args(const nlohmann::json& body);
result<remove_image_args> parse_remove_image_args(const nlohmann::json& body);

// The JSON form of each struct (every field, defaults included); parse(to_json(x)) == x.
nlohmann::json to_json(const empty_args& a);
nlohmann::json to_json(const list_containers_args& a);
nlohmann::json to_json(const container_ref_args& a);
nlohmann::json to_json(const stop_container_args& a);
nlohmann::json to_json(const kill_container_args& a);
nlohmann::json to_json(const remove_container_args& a);
nlohmann::json to_json(const container_logs_args& a);
nlohmann::json to_json(const port_spec& a);
nlohmann::json to_json(const create_container_args& a);
nlohmann::json to_json(const list_images_args& a);
nlohmann::json to_json(const image_ref_args& a);
nlohmann::json to_json(const pull_image_args& a);  // the password is kept: caller must not log it
nlohmann::json to_json(const remove_image_args& a);

}  // namespace dockmesh::common
