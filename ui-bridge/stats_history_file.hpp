// stats_history_file: the stats history on disk, so that a restarted bridge keeps its graphs
// (docs/bridge.md, "Stats history"). One file in the bridge's data dir, `stats-history.msgpack`:
// both histories (containers, hosts), every point of every series with its merge count, in
// msgpack. It is written whole (temporary file, fsync, rename: a reader or a crash sees the old
// file or the new one), every `period` by stats_history_keeper's own thread and once more when
// the bridge stops; it is read once at start. Its size follows the histories' bound
// (max_file_bytes: a file over it is refused, not read). encode/decode are pure and thread-safe;
// the keeper's thread is the only one that blocks (on the disk), never an io_context thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.hpp"
#include "ui-bridge/stats_history.hpp"

namespace dockmesh::bridge {

// The file's bytes for both histories.
std::string encode_stats_histories(const stats_history& containers, const stats_history& hosts,
                                   std::int64_t now_ms);
// Puts the file's series back into the histories (their limits apply: points older than the
// window go, series over the cap evict the oldest). The number of points restored, or
// errc::malformed for bytes that are not such a file (the histories are then left as they were).
common::result<std::size_t> decode_stats_histories(std::string_view bytes,
                                                   stats_history& containers, stats_history& hosts,
                                                   std::int64_t now_ms);
// The largest file two histories with these limits can produce (msgpack's widest encodings).
std::size_t max_file_bytes(const stats_history_limits& limits);

common::result<void> save_stats_file(const std::string& path, const stats_history& containers,
                                     const stats_history& hosts, std::int64_t now_ms);
// A missing file restores nothing (0); an unreadable, oversized or malformed one is an error.
common::result<std::size_t> load_stats_file(const std::string& path, stats_history& containers,
                                            stats_history& hosts, std::int64_t now_ms);

class stats_history_keeper {
 public:
  stats_history_keeper(std::string path, stats_history& containers, stats_history& hosts,
                       std::chrono::milliseconds period);
  ~stats_history_keeper();
  stats_history_keeper(const stats_history_keeper&) = delete;
  stats_history_keeper& operator=(const stats_history_keeper&) = delete;

  void start();
  // Saves once more and joins the thread. Call it after the sampler has stopped.
  void stop();

 private:
  void run();
  void save_now();

  std::string path_;
  stats_history& containers_;
  stats_history& hosts_;
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dockmesh::bridge
