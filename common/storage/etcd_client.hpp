// etcd_client: a blocking client of etcd's v3 API as JSON over HTTP (the gRPC gateway on the
// client port; keys and values travel base64-encoded, 64-bit numbers as strings). It covers what
// the broker and the bridge need: range, put, delete, create-if-absent and delete-if-present
// transactions, leases (grant, keep-alive, revoke) and a watch (a streamed response). Several
// endpoints: a call that fails on one (connection refused, timeout, 5xx) is tried once on each of
// the others, and the first that answers becomes the current one. Errors are values
// (errc::unavailable when no endpoint answered, errc::malformed for an answer that does not parse).
// Owned by one thread (it keeps one libcurl easy handle); every call blocks for up to the
// timeout per endpoint, so it must never run on the broker's hub thread (etcd_link runs it there)
// nor in a Beast handler of the bridge (shared_records runs it on its own threads).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dockmesh::common {

struct etcd_kv {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;
};

struct etcd_range {
  std::vector<etcd_kv> kvs;
  std::int64_t revision = 0;  // the store's revision when it answered
};

struct etcd_txn {
  bool succeeded = false;
  std::int64_t revision = 0;  // after the transaction: a create's create_revision when it succeeded
  std::vector<etcd_kv> kvs;   // the failure branch's range (the key that already exists)
};

struct etcd_event {
  bool deleted = false;
  etcd_kv kv;
};

struct etcd_lease {
  std::int64_t id = 0;
  std::int64_t ttl_seconds = 0;  // 0 from keepalive: the lease has expired
};

std::string base64_encode(std::string_view bytes);
common::result<std::string> base64_decode(std::string_view text);
// The end of the key range that holds every key starting with `prefix`.
std::string prefix_end(std::string_view prefix);
// Parses "http://host:port" lists: "URL,URL" (start-up: throws on an empty or non-http entry).
std::vector<std::string> parse_etcd_endpoints(std::string_view list);

class etcd_client {
 public:
  explicit etcd_client(std::vector<std::string> endpoints,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(500));
  ~etcd_client();
  etcd_client(const etcd_client&) = delete;
  etcd_client& operator=(const etcd_client&) = delete;

  common::result<etcd_range> range(std::string_view key, bool prefix = false);
  common::result<std::int64_t> put(std::string_view key, std::string_view value,
                                   std::int64_t lease = 0);  // the new revision
  // Creates `key` only if it does not exist (compare create_revision == 0); otherwise returns the
  // existing key-value in kvs.
  common::result<etcd_txn> create_if_absent(std::string_view key, std::string_view value,
                                            std::int64_t lease = 0);
  // Puts `key` only while its mod_revision is still `mod_revision` (0: only while absent), i.e.
  // unchanged since it was read; otherwise returns the current key-value (if any) in kvs.
  common::result<etcd_txn> put_if_revision(std::string_view key, std::string_view value,
                                           std::int64_t mod_revision);
  // Deletes `key` only if it exists: true for exactly one caller when several race.
  common::result<bool> delete_if_present(std::string_view key);
  common::result<std::int64_t> erase(std::string_view key);  // how many keys were deleted
  // One transaction: if `spent` exists, delete it and put key=value (a join token spent on an
  // enrollment); false, changing nothing, when `spent` is gone (spent elsewhere, or expired).
  common::result<bool> spend_and_put(std::string_view spent, std::string_view key,
                                     std::string_view value);
  // A record that owns a name (a project or service name, unique in its scope): puts key=value
  // together with name=holder when `name` is free or already names `holder`, in one transaction.
  // Answers "" when written, or the other holder the name belongs to (nothing written).
  common::result<std::string> put_claimed(std::string_view name, std::string_view holder,
                                          std::string_view key, std::string_view value);
  // Deletes `key`, and `name` with it while `name` still names `holder`.
  common::result<void> erase_claimed(std::string_view name, std::string_view holder,
                                     std::string_view key);

  common::result<etcd_lease> lease_grant(std::int64_t ttl_seconds);
  common::result<etcd_lease> lease_keepalive(std::int64_t id);
  common::result<void> lease_revoke(std::int64_t id);

  // Streams changes of keys under `prefix` from `start_revision` and calls on_events for each
  // batch with the batch's header revision. Returns when stop becomes true (checked every
  // ~100 ms), the stream ends or fails, or after max_duration (a stream to a frozen member must
  // not hang for ever). An error means the caller should take a fresh snapshot (compaction).
  using events_fn = std::function<void(const std::vector<etcd_event>&, std::int64_t revision)>;
  common::result<void> watch(std::string_view prefix, std::int64_t start_revision,
                             const events_fn& on_events, const std::atomic<bool>& stop,
                             std::chrono::milliseconds max_duration);

  const std::string& endpoint() const { return endpoints_[current_]; }

 private:
  common::result<nlohmann::json> call(std::string_view path, const nlohmann::json& body);
  common::result<nlohmann::json> call_one(const std::string& url, const std::string& body);
  // One transaction: request_put if `compare` holds, else a range of the key.
  common::result<etcd_txn> put_unless_changed(const nlohmann::json& compare,
                                              const nlohmann::json& request_put);

  void* curl_;  // CURL*
  std::vector<std::string> endpoints_;
  std::size_t current_ = 0;
  std::chrono::milliseconds timeout_;
};

}  // namespace dockmesh::common
