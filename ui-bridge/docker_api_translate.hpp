// docker_api_translate: the pure half of the Docker-compatible endpoint (docs/docker-api.md):
// Docker's request and reply shapes to and from the mesh's actions (docs/actions.md). A Docker
// create body becomes a create-container message (placement from `mesh.*` labels), the mesh's
// list entries, images, stats and bus events become Docker's shapes, and container logs (asked
// for with timestamps) are merged back into one time-ordered stream with Docker's 8-byte frame
// headers. Nothing here touches the bus or a socket. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dockmesh::bridge {

// Labels of a Docker create that choose the placement instead of becoming container labels.
inline constexpr std::string_view mesh_host_label = "mesh.host";                // <fqdn>
inline constexpr std::string_view mesh_constraints_label = "mesh.constraints";  // "a==b,c!=d"
inline constexpr std::string_view mesh_strategy_label = "mesh.strategy";  // spread|binpack|random

// Docker's POST /containers/create body (+ the `name` query) -> a create-container message
// ({"action", "host"?, "constraints"?, ...}) that is created but not started. Privilege fields
// are carried over under the mesh's names so that the create policy refuses them by name.
common::result<nlohmann::json> mesh_create_message(const nlohmann::json& docker_body,
                                                   const std::string& name);

// A list-containers entry (docs/actions.md) -> one element of Docker's GET /containers/json.
nlohmann::json docker_container_summary(const nlohmann::json& entry);

// Docker's `filters` query ({"label":["k=v"],"status":["running"],"name":[..],"id":[..]}).
using docker_filters = std::map<std::string, std::vector<std::string>>;
common::result<docker_filters> parse_docker_filters(std::string_view text);
// Whether a Docker container summary passes the filters (label, status, name, id).
bool container_passes(const docker_filters& f, const nlohmann::json& summary);

// A list-images entry -> one element of Docker's GET /images/json.
nlohmann::json docker_image_summary(const nlohmann::json& entry);

// A bus event envelope (as JSON) from evt/host/<fqdn>/ -> Docker's event, for docker-event only.
std::optional<nlohmann::json> docker_event(const nlohmann::json& envelope, std::string_view host);

// A container-stats body -> a Docker stats document that `docker stats` computes the same
// CPU and memory percentages from.
nlohmann::json docker_stats(const nlohmann::json& stats, const std::string& id);

// One line of container-logs output asked for with `timestamps: true`.
struct log_line {
  std::int64_t seconds = 0;  // unix seconds of Docker's timestamp
  std::int64_t nanos = 0;
  std::string stamp;  // the timestamp as Docker wrote it, with the space after it
  std::string text;   // the line, with its newline
  int stream = 1;     // 1 stdout, 2 stderr
  bool operator<(const log_line& o) const {
    return seconds != o.seconds ? seconds < o.seconds : nanos < o.nanos;
  }
};
// Splits a stream's text into timestamped lines (a line without a timestamp keeps 0).
std::vector<log_line> parse_log_lines(std::string_view text, int stream);
// Both streams of a container-logs body, merged in time order.
std::vector<log_line> merge_logs(const nlohmann::json& logs_body);
// Docker's multiplexed frame: [stream, 0, 0, 0, size big-endian] + payload.
std::string log_frame(int stream, std::string_view payload);

// j[key] when it is an array, else an empty array: reply bodies are read without throwing.
const nlohmann::json& list_at(const nlohmann::json& j, const char* key);

// The JSON body of a Docker error: {"message": "..."}.
nlohmann::json docker_error_body(std::string_view message);

}  // namespace dockmesh::bridge

namespace dockmesh::bridge {
// Whether a Docker event passes `docker events` filters (type, event, container, image).
bool event_passes(const docker_filters& f, const nlohmann::json& event);
// Docker's `since`/`until` values ("1700000000", "1700000000.5"): whole unix seconds, or -1.
std::int64_t unix_seconds(std::string_view text);
}  // namespace dockmesh::bridge
