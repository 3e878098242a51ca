// join_tokens: one-time enrollment tokens (`dockmeshctl keys token create --ttl S`). An agent
// that presents a valid token in `enroll` is accepted without an admin; the token is then spent.
// Only a hash of each token is stored (in state_db, sync writes), so the database does not hold
// usable secrets. Owned by the hub thread; time is passed in, so expiry is testable.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/state_db.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

class join_tokens {
 public:
  static constexpr std::int64_t max_ttl_seconds = 30LL * 24 * 3600;

  explicit join_tokens(state_db& db);

  struct issued {
    std::string token;  // shown once to the admin
    std::int64_t expires_ms;
  };
  // 400 unless 1 <= ttl_seconds <= max_ttl_seconds.
  common::result<issued> create(std::int64_t ttl_seconds, std::int64_t now_ms);
  // True exactly once for a token that exists and has not expired; the token is then gone.
  bool consume(std::string_view token, std::int64_t now_ms);
  // Forgets expired tokens; returns how many.
  std::size_t purge_expired(std::int64_t now_ms);
  std::size_t size() const { return expires_.size(); }

  // With --etcd tokens are spent in etcd, where every broker's tokens are: create also hands the
  // token's hash and lifetime to `publish`, and enrollment asks etcd to spend a token and accept
  // the key in one transaction (broker_core sends it) instead of consume().
  using publish_fn = std::function<void(const std::string& hash, std::int64_t ttl_seconds)>;
  void set_publish(publish_fn fn) { publish_ = std::move(fn); }
  bool in_etcd() const { return static_cast<bool>(publish_); }
  static std::string hash(std::string_view token);

 private:
  state_db& db_;
  publish_fn publish_;
  std::unordered_map<std::string, std::int64_t> expires_;  // token hash -> unix ms
};

}  // namespace dockmesh::broker
