// names: the wire name of every message of the dockmesh protocol, each written here and nowhere
// else in C++. Code names a message through these constants; what a message is (kind, senders,
// schemas, timeout) is in catalogue.hpp. Adding a message: a constant here, an entry in
// catalogue.cpp, its schemas in schemas/. Constants only; any thread.
#pragma once

#include <string_view>

namespace dockmesh::common::protocol::names {

// Agent actions (req/host/<fqdn>/, req/any/, req/all/).
inline constexpr std::string_view ping = "ping";
inline constexpr std::string_view host_info = "host-info";
inline constexpr std::string_view disk_usage = "disk-usage";
inline constexpr std::string_view list_containers = "list-containers";
inline constexpr std::string_view inspect_container = "inspect-container";
inline constexpr std::string_view create_container = "create-container";
inline constexpr std::string_view start_container = "start-container";
inline constexpr std::string_view stop_container = "stop-container";
inline constexpr std::string_view restart_container = "restart-container";
inline constexpr std::string_view kill_container = "kill-container";
inline constexpr std::string_view remove_container = "remove-container";
inline constexpr std::string_view delete_container = "delete-container";  // alias of remove
inline constexpr std::string_view container_logs = "container-logs";
inline constexpr std::string_view container_stats = "container-stats";
inline constexpr std::string_view list_images = "list-images";
inline constexpr std::string_view inspect_image = "inspect-image";
inline constexpr std::string_view pull_image = "pull-image";
inline constexpr std::string_view remove_image = "remove-image";
// Stream openers: answered once, then stream-data until stream-end (docs/streams.md).
inline constexpr std::string_view follow_logs = "follow-logs";
inline constexpr std::string_view follow_stats = "follow-stats";
inline constexpr std::string_view exec_start = "exec-start";  // an interactive exec session

// Broker control calls (the broker's ROUTER endpoint).
inline constexpr std::string_view hosts = "hosts";
inline constexpr std::string_view host = "host";
inline constexpr std::string_view containers = "containers";
inline constexpr std::string_view container = "container";
inline constexpr std::string_view enroll = "enroll";
inline constexpr std::string_view keys_list = "keys-list";
inline constexpr std::string_view keys_accept = "keys-accept";
inline constexpr std::string_view keys_reject = "keys-reject";
inline constexpr std::string_view keys_revoke = "keys-revoke";
inline constexpr std::string_view token_create = "token-create";
inline constexpr std::string_view stats = "stats";
inline constexpr std::string_view audit = "audit";
// Between brokers only (docs/ha.md): a broker starting late asks a live peer for its directory.
inline constexpr std::string_view directory_snapshot = "directory-snapshot";

// Projects and services (control calls; docs/services.md).
inline constexpr std::string_view project_create = "project-create";
inline constexpr std::string_view project_list = "project-list";
inline constexpr std::string_view project_delete = "project-delete";
inline constexpr std::string_view service_create = "service-create";
inline constexpr std::string_view service_list = "service-list";
inline constexpr std::string_view service_get = "service-get";
inline constexpr std::string_view service_update = "service-update";
inline constexpr std::string_view service_scale = "service-scale";
inline constexpr std::string_view service_delete = "service-delete";

// Host pools, cordon and drain, quotas (control calls; docs/services.md).
inline constexpr std::string_view host_policy_set = "host-policy-set";
inline constexpr std::string_view host_policy_list = "host-policy-list";
inline constexpr std::string_view quota_set = "quota-set";
inline constexpr std::string_view quota_list = "quota-list";
// Teams of users that may own host pools (control calls; docs/services.md, "Teams").
inline constexpr std::string_view team_set = "team-set";
inline constexpr std::string_view team_delete = "team-delete";
inline constexpr std::string_view team_list = "team-list";

// Announcements (ann/), by agents.
inline constexpr std::string_view register_host = "register";
inline constexpr std::string_view heartbeat = "heartbeat";
inline constexpr std::string_view unregister = "unregister";
inline constexpr std::string_view inventory = "inventory";

// Directory events (dir/), by brokers.
inline constexpr std::string_view host_up = "host-up";
inline constexpr std::string_view host_down = "host-down";
inline constexpr std::string_view host_gone = "host-gone";
inline constexpr std::string_view host_updated = "host-updated";
inline constexpr std::string_view container_added = "container-added";
inline constexpr std::string_view container_changed = "container-changed";
inline constexpr std::string_view container_removed = "container-removed";
inline constexpr std::string_view broker_heartbeat = "broker-heartbeat";
// A step of the service reconciler (docs/services.md).
inline constexpr std::string_view service_reconcile = "service-reconcile";

// Host events (evt/host/<fqdn>/), streams and bus signals.
inline constexpr std::string_view docker_event = "docker-event";
inline constexpr std::string_view pull_progress = "pull-progress";
inline constexpr std::string_view stream_data = "stream-data";      // agent -> reader
inline constexpr std::string_view stream_end = "stream-end";        // agent -> reader, last
inline constexpr std::string_view stream_credit = "stream-credit";  // reader -> agent
inline constexpr std::string_view stream_cancel = "stream-cancel";  // reader -> agent
inline constexpr std::string_view stream_input = "stream-input";    // reader -> agent (exec)
inline constexpr std::string_view stream_resize = "stream-resize";  // reader -> agent (exec)
inline constexpr std::string_view reannounce = "reannounce";
inline constexpr std::string_view probe = "probe";

}  // namespace dockmesh::common::protocol::names
