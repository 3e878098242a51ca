// key_store: the CURVE public keys the broker knows, each with a role, a name and a state (the
// salt-key model). Accepted keys pass ZAP as `<role>:<name>`; unknown keys seen by ZAP or by
// `enroll` are kept as pending until an admin accepts or rejects them; revoked and rejected keys
// are refused everywhere. Bootstrapped from --authorized-keys, persisted in state_db (sync
// writes). Owned by the hub thread; lookups are hash-map reads, safe to call per ZAP request.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/identity.hpp"
#include "broker/state_db.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

enum class key_state { accepted, pending, rejected, revoked };
std::string_view to_string(key_state s);

struct key_entry {
  std::string public_key;  // Z85, 40 chars
  role who = role::agent;  // for pending keys: the role they would get (agent)
  std::string name;        // fqdn for agents; empty for a pending key only seen on the bus
  key_state state = key_state::pending;
  std::int64_t updated_ms = 0;
  // With --etcd only, never written to etcd or shown: the mod revision of the etcd record last
  // applied here, and whether a local decision was sent to etcd and not yet seen coming back.
  std::int64_t revision = 0;
  bool local_ahead = false;
  nlohmann::json to_json() const;  // {public_key, role, name, state, updated}
};

// How a local key change is written to etcd. A pending record never replaces a decision there.
enum class key_write {
  decision,  // accept, reject, revoke: a plain put; of two decisions the later revision wins
  note,      // a key first seen (ZAP, enroll): created only if etcd has no record of it
  renote,    // a pending key gets its name: only while etcd's record is the one read (revision)
  seed,      // --authorized-keys at start: created, or put over a pending note, never over a
             // decision (a key revoked elsewhere stays revoked)
};
// The etcd_link command for one write: {"op":"put-key"|"note-key"|"renote-key"|"seed-key", ...}.
nlohmann::json etcd_key_command(const key_entry& e, key_write how);

// `<role> <name> <public-key>` per line; blank lines and lines starting with '#' are ignored, and
// text after the key may be a '#' comment ('#' is also a Z85 character, so a key may contain it).
// Errors name the line.
common::result<std::vector<key_entry>> parse_authorized_keys(std::string_view text);
// Reads and parses a file; throws std::runtime_error (start-up).
std::vector<key_entry> load_authorized_keys(const std::string& path);

class key_store {
 public:
  explicit key_store(state_db& db, std::size_t max_pending = 1000);

  // Start-up merge of --authorized-keys: new and pending keys become accepted, accepted keys take
  // the file's role and name; revoked or rejected keys stay refused (a restart must not undo a
  // revocation), which is logged.
  void merge_authorized(const std::vector<key_entry>& entries, std::int64_t now_ms);

  const key_entry* find(std::string_view public_key) const;
  // An exact public key, or a name that matches exactly one key. 404 / 409 otherwise.
  common::result<key_entry> resolve(std::string_view key_or_name) const;
  std::vector<key_entry> list() const;

  // Records an unknown key as pending (name may be empty). No-op for known keys; refused (false)
  // once max_pending pending keys exist, so random keys cannot grow the store without bound.
  bool note_pending(std::string_view public_key, std::string_view name, std::int64_t now_ms);
  // Accepts a key as `who:name`. 409 when another accepted agent key already owns that fqdn,
  // 400 when the name is not a valid segment.
  common::result<key_entry> accept(std::string_view public_key, role who, std::string_view name,
                                   std::int64_t now_ms);
  common::result<key_entry> set_refused(std::string_view public_key, key_state state,
                                        std::int64_t now_ms);  // rejected or revoked

  // With --etcd: every local change is also handed to `mirror` with how to write it, and etcd's
  // records come back through apply_remote (the watch, or a snapshot) with their mod revision. A
  // record older than the one applied is ignored, and a pending record never replaces a local
  // decision still on its way to etcd. Returns true when an accepted key lost access or changed
  // identity (the hub must then cut its live connections).
  using mirror_fn = std::function<void(const key_entry&, key_write)>;
  void set_mirror(mirror_fn fn) { mirror_ = std::move(fn); }
  // Writes every accepted key (from --authorized-keys or the cache) to etcd as a seed.
  void seed_mirror();
  bool apply_remote(const nlohmann::json& record, std::int64_t mod_revision);
  // etcd did not take this broker's decision on the key: the next snapshot's record replaces it.
  void etcd_missed(std::string_view public_key);

  // Bumped on every change; lets the hub notice that keys changed.
  std::uint64_t generation() const { return generation_; }

 private:
  common::result<void> save(key_entry& e, bool sync = true, key_write how = key_write::decision);

  state_db& db_;
  std::size_t max_pending_;
  std::size_t pending_count_ = 0;
  std::unordered_map<std::string, key_entry> keys_;
  std::uint64_t generation_ = 0;
  mirror_fn mirror_;
};

}  // namespace dockmesh::broker
