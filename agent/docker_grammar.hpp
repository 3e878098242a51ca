// docker_grammar: what the agent accepts from a request before any of it reaches a Docker path,
// query or body. Every check names the request field it rejects (errc::invalid_argument, "field
// 'id': ..."), quotes at most a short, control-free excerpt of the bad value, and is stricter than
// Docker where Docker is lax (label keys, env names). Escaping helpers percent-encode whatever
// reaches a path segment or a query value, so even a value that passed the grammar cannot change
// the request's shape. Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace dockmesh::agent {

using check_result = common::result<void>;

// A container id (1..64 hex digits, a prefix is fine) or name (Docker: [a-zA-Z0-9][a-zA-Z0-9_.-]*,
// optional leading '/'), at most 128 characters.
check_result check_container_ref(std::string_view field, std::string_view v);
// A name for a new container: [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 120 characters (room for -N).
check_result check_container_name(std::string_view field, std::string_view v);
// [registry[:port]/]path[/path...][:tag][@algo:hex], or an image id; Docker's reference grammar.
check_result check_image_ref(std::string_view field, std::string_view v);
// [A-Za-z0-9] then [A-Za-z0-9._/-], not ending in a separator, at most 128 characters.
check_result check_label_key(std::string_view field, std::string_view v);
// Any text without control characters, at most 4096 bytes.
check_result check_label_value(std::string_view field, std::string_view v);
// NAME=value with NAME = [A-Za-z_][A-Za-z0-9_]*, the value free of control characters except tab.
check_result check_env_entry(std::string_view field, std::string_view v);
// "KILL", "SIGKILL", "sigkill" or "9" -> "SIGKILL" / "9" (1..64). Unknown names are refused.
common::result<std::string> normalize_signal(std::string_view field, std::string_view v);
// A request id as used in the dockmesh.request label: [A-Za-z0-9_.:-], 1..128.
check_result check_request_id(std::string_view field, std::string_view v);
// An absolute path without "..", NUL or control characters, at most 4096 bytes.
check_result check_abs_path(std::string_view field, std::string_view v);
// src:dst[:opts]: src an absolute host path or a volume name, dst an absolute path, opts from
// Docker's set (ro, rw, z, Z, nocopy, [r]private, [r]shared, [r]slave, consistent, cached...).
// `host_path` tells the caller whether src is a host path (an admin-only thing).
check_result check_bind(std::string_view field, std::string_view v, bool* host_path);
// user[:group], names or numbers: [A-Za-z0-9_.-]{1,64} each.
check_result check_user(std::string_view field, std::string_view v);
// none, host, bridge, default, container:<ref>, or a network name.
check_result check_network_mode(std::string_view field, std::string_view v);
// no, always, unless-stopped, on-failure[:N].
check_result check_restart_policy(std::string_view field, std::string_view v);
// A template name: [a-z0-9][a-z0-9_.-]*, at most 64 characters.
check_result check_template_name(std::string_view field, std::string_view v);
// Any argv element: no NUL, at most 32 KiB.
check_result check_argument(std::string_view field, std::string_view v);

// For messages: the value cut to at most 60 bytes (never inside a UTF-8 character), control
// characters shown as '?', anything that is not UTF-8 as U+FFFD.
std::string excerpt(std::string_view v);
// Replaces every byte sequence that is not UTF-8 with U+FFFD (container logs are raw bytes).
std::string to_valid_utf8(std::string_view bytes);

// Percent-encodes everything but the unreserved URL characters (A-Za-z0-9 - . _ ~).
std::string escape_component(std::string_view v);

// Builds "?k=v&k2=v2" with escaped keys and values; "" when empty.
class query_string {
 public:
  query_string& add(std::string_view key, std::string_view value);
  query_string& add_flag(std::string_view key, bool value) {
    return add(key, std::string_view(value ? "1" : "0"));
  }
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace dockmesh::agent
