// host_directory: the broker's list of hosts, built from agents' `ann/` announcements.
// Two last-writer-wins registers per host, both ordered by version_stamp:
//   record:   the body of the newest register/heartbeat (what `hosts` shows, what the scheduler
//             reads);
//   presence: the newest announcement of any kind (an unregister newer than every heartbeat means
//             the agent stopped cleanly).
// So any two brokers fed the same announcements, in any order, hold the same records. Liveness is
// local: a host not heard from for down_after_ms is `down`; down for gone_after_ms it is `gone`.
// Every change returns directory_events for `dir/`. Owned by the hub thread; time is passed in.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "broker/directory_event.hpp"
#include "broker/state_db.hpp"
#include "broker/version_stamp.hpp"
#include "common/result.hpp"

namespace dockmesh::broker {

enum class host_status { up, down, gone };
std::string_view to_string(host_status s);
std::optional<host_status> parse_host_status(std::string_view s);

struct host_entry {
  std::string fqdn;
  nlohmann::json record = nlohmann::json::object();
  version_stamp record_version;
  version_stamp presence_version;
  bool unregistered = false;  // the newest announcement was an unregister
  host_status status = host_status::up;
  std::string reason;           // why down/gone
  std::int64_t first_seen = 0;  // unix ms
  std::int64_t last_seen = 0;   // unix ms of the newest applied announcement
  std::int64_t status_since = 0;
  std::int64_t last_heard = 0;    // liveness clock; not persisted (a restart starts it afresh)
  std::int64_t persisted_ms = 0;  // when this entry was last written (not persisted)
  bool stale = false;  // only heartbeats since the last write (queued in host_directory::stale_)

  bool docker_up() const;
  nlohmann::json to_json() const;  // record + status, first_seen, last_seen, ...
  bool has_label(std::string_view key, std::string_view value) const;
};

struct directory_timing {
  std::int64_t down_after_ms = 3200;  // ~3 missed 1 s heartbeats
  std::int64_t gone_after_ms = 24LL * 3600 * 1000;
  // A bare heartbeat (only sequence and last_seen move) is written at most this often per host:
  // writing every heartbeat of 5,000 hosts cost the hub loop ~30 ms per 200 ms batch.
  std::int64_t heartbeat_persist_ms = 30000;
  // ...and at most this many such hosts per flush, so that hosts which registered together do
  // not all come due in the same flush.
  std::size_t heartbeat_writes_per_flush = 100;
};

class host_directory {
 public:
  explicit host_directory(directory_timing timing = {}) : timing_(timing) {}

  // register | heartbeat | unregister with a body already checked by topic_acl. 400 on a body
  // without fqdn/incarnation/sequence.
  common::result<directory_events> apply(std::string_view action, const nlohmann::json& body,
                                         std::int64_t now_ms);
  // Marks silent hosts down and long-down hosts gone. `heard_until_ms`: the last moment at which
  // the caller had read every announcement delivered to it (default: now). A host is down when
  // it was silent for down_after_ms before that moment, so a broker that falls behind its input
  // (starved of CPU, a burst of joins) waits for the heartbeats queued there instead of marking
  // every host down; it marks none down on the time it spends behind.
  directory_events tick(std::int64_t now_ms, std::optional<std::int64_t> heard_until_ms = {});

  const host_entry* find(std::string_view fqdn) const;
  const std::map<std::string, host_entry, std::less<>>& hosts() const { return hosts_; }
  nlohmann::json list(std::optional<host_status> status, std::string_view label_key,
                      std::string_view label_value) const;

  void load(const state_db& db, std::int64_t now_ms);
  // A host entry from a peer broker's directory snapshot (directory_snapshot.hpp), already
  // checked. Its record replaces ours if newer; its status, reason and presence replace ours if
  // its presence is newer, or as new with another status (the peer has been running, we have
  // just started). The host
  // counts as heard now: with no heartbeat after this it goes down as usual. No dir/ events (the
  // peer published them). False when we already held something at least as new.
  bool adopt(const host_entry& peer, std::int64_t now_ms);
  // Persists changed hosts, and heartbeat-only ones not written for heartbeat_persist_ms (all of
  // them when `everything`). No sync: WAL only.
  common::result<void> flush(state_db& db, std::int64_t now_ms, bool everything = false);
  bool dirty() const { return !dirty_.empty(); }

 private:
  void set_status(host_entry& h, host_status s, std::string reason, std::int64_t now_ms,
                  directory_events& out);

  directory_timing timing_;
  host_entry& entry(const std::string& fqdn, bool& fresh);

  std::map<std::string, host_entry, std::less<>> hosts_;
  // Hash index over hosts_ (whose nodes never move): a heartbeat costs one hash, not a dozen
  // compares of long, similar host names; at 5,000 hosts that was most of the hub's time.
  std::unordered_map<std::string_view, host_entry*> index_;
  std::set<std::string> dirty_;  // changed: written at the next flush
  // Hosts that had only heartbeats since their last write, oldest first; an entry whose host is
  // no longer `stale` (written since) is skipped. Heartbeats are written once persist_ms old, so
  // a flush looks only at the front instead of at every host.
  std::deque<host_entry*> stale_;
  // Liveness without scanning every host each tick (at 5,000 hosts the scan every 100 ms was a
  // visible stall): every time a host is heard it is queued with that time; a tick looks only at
  // entries older than down_after_ms, and one whose host was heard since is simply dropped.
  std::deque<std::pair<host_entry*, std::int64_t>> heard_;
  std::unordered_set<host_entry*> down_;  // hosts now `down`: the candidates for `gone`
};

}  // namespace dockmesh::broker
