// audit_log: the broker's append-only, bounded record of every state-changing request
// (docs/broker.md, Audit log): who (the key's role:name from ZAP, the key, the peer address), on
// whose behalf (the envelope's user and role), what (action, host, target), the result code and
// when. A bus request is remembered when it passes through the hub and written when its reply
// passes (or, with code 0, when no reply came within reply_wait_ms); a control call is written at
// once. Entries go to the state_db as a ring (a/<20-digit sequence>, the oldest deleted past
// `capacity`), batched once per hub tick with non-sync writes. Only names and ids are kept:
// never a body, so env values and registry credentials are never stored. Owned by the hub
// thread; never blocks (non-sync RocksDB writes only); time is passed in.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/identity.hpp"
#include "broker/state_db.hpp"
#include "common/envelope.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

struct audit_entry {
  std::int64_t time_ms = 0;
  std::string who;   // role:name of the key
  std::string key;   // its public key (Z85)
  std::string peer;  // the connection's address, when known
  std::string user;  // on whose behalf (the envelope's user), if any
  std::string role;  // the envelope's role
  std::string action;
  std::string host;    // fqdn, "any", "all" or "" for a control call
  std::string target;  // container id/name, image, key...
  std::string request_id;
  int code = 0;  // the reply's code; 0 = no reply before the wait ended
  nlohmann::json to_json() const;
};

// An entry with only the caller's part (key's role:name, public key, peer address) filled in.
audit_entry audit_caller(std::string who, std::string key, std::string peer);

class audit_log {
 public:
  static constexpr std::size_t default_capacity = 100000;
  static constexpr std::int64_t reply_wait_ms = 120000;
  static constexpr std::size_t max_waiting = 10000;

  explicit audit_log(std::size_t capacity = default_capacity) : capacity_(capacity) {}
  // Writes to `db` from now on, continuing its sequence.
  void attach(state_db& db);

  static bool is_state_changing(std::string_view action);

  // A request on req/host/<host>/, req/any/ or req/all/ (host "any"/"all"); retries are ignored.
  void on_request(audit_entry who, std::string host, const common::envelope& req,
                  std::int64_t now_ms);
  // A reply passing through the hub (or published by the broker); no-op unless awaited.
  // An audited stream (exec-start, docs/streams.md) that opened (200) is remembered as a
  // session: its stream-end (which carries `re` = the stream id and the final code) is written
  // as a second entry, "exec-end", so the log says who ran what where, and when it ended.
  // `action`: the passing message's action ("" for a reply, stream-end for a stream's end).
  void on_reply(const std::string& re, int code, std::int64_t now_ms = 0,
                std::string_view action = {});
  std::size_t sessions() const { return sessions_.size(); }
  // A control call, written with its reply's code.
  void on_control(audit_entry who, const common::envelope& req, int code, std::int64_t now_ms);
  // Expires unanswered requests and writes what is pending to the database.
  void tick(std::int64_t now_ms);

  // body: {since (unix ms), user, limit (1..1000, default 100)} -> {entries (newest first)}.
  common::result<nlohmann::json> query(const nlohmann::json& body) const;

  std::uint64_t written() const { return written_; }
  std::size_t waiting() const { return waiting_.size(); }

 private:
  void append(audit_entry e);

  std::size_t capacity_;
  state_db* db_ = nullptr;
  std::uint64_t next_seq_ = 1;
  std::uint64_t first_seq_ = 1;  // the oldest entry still stored
  std::uint64_t written_ = 0;
  std::unordered_map<std::string, audit_entry> waiting_;  // by request id
  std::deque<std::pair<std::int64_t, std::string>> waiting_order_;
  std::vector<audit_entry> unwritten_;
  std::unordered_map<std::string, audit_entry> sessions_;  // open audited streams, by stream id
  std::deque<std::string> session_order_;                  // oldest first, for the bound
};

}  // namespace dockmesh::broker
