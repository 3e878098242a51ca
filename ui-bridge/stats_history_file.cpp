#include "ui-bridge/stats_history_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include "common/envelope.hpp"
#include "common/log.hpp"

namespace dockmesh::bridge {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;

constexpr int file_version = 1;
constexpr std::size_t max_key_bytes = 255;  // a full container id is 64, an fqdn at most 253
// Widest msgpack encodings: a point is a fixarray of 8 (1 byte), t (uint64: 9), CPU (a float32's
// 5, counted as a float64's 9), its merge count (uint32: 5) and five int64 (9 each); a series adds
// its key (str8: 2 + 255) and its array's header (array32: 5).
constexpr std::size_t max_point_bytes = 1 + 9 + 9 + 5 + 5 * 9;
constexpr std::size_t max_series_overhead = 2 + max_key_bytes + 5;

using series_list = std::vector<std::pair<std::string, std::vector<stats_sample>>>;

using packer = msgpack::packer<msgpack::sbuffer>;

void pack_key(packer& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

// Packed as it goes (no document in memory): a full default history is ~1.3 M points.
void encode_one(packer& pk, const stats_history& h) {
  auto all = h.all_series();
  pk.pack_map(static_cast<std::uint32_t>(all.size()));
  for (const auto& [key, points] : all) {
    pack_key(pk, key);
    pk.pack_array(static_cast<std::uint32_t>(points.size()));
    for (const auto& p : points) {
      pk.pack_array(8);
      pk.pack(p.t_ms).pack(p.cpu_percent).pack(p.merged).pack(p.memory_bytes);
      pk.pack(p.network_rx_bytes).pack(p.network_tx_bytes);
      pk.pack(p.block_read_bytes).pack(p.block_write_bytes);
    }
  }
}

bool is_count(const json& v) {
  return v.is_number_integer() && v.get<std::int64_t>() >= 0;
}

// One saved point; false when it is not [t, cpu, merged, five counters] with sane values.
bool decode_point(const json& v, stats_sample& p) {
  if (!v.is_array() || v.size() != 8 || !v[1].is_number()) return false;
  for (std::size_t i : {0, 2, 3, 4, 5, 6, 7})
    if (!is_count(v[i])) return false;
  double cpu = v[1].get<double>();
  if (!(cpu >= 0 && cpu < 1e6) || v[2].get<std::int64_t>() == 0 ||
      v[2].get<std::int64_t>() > UINT32_MAX)
    return false;
  p.t_ms = v[0].get<std::int64_t>();
  p.cpu_percent = static_cast<float>(cpu);
  p.merged = static_cast<std::uint32_t>(v[2].get<std::int64_t>());
  p.memory_bytes = v[3].get<std::int64_t>();
  p.network_rx_bytes = v[4].get<std::int64_t>();
  p.network_tx_bytes = v[5].get<std::int64_t>();
  p.block_read_bytes = v[6].get<std::int64_t>();
  p.block_write_bytes = v[7].get<std::int64_t>();
  return true;
}

bool decode_one(const json& v, series_list& out) {
  if (!v.is_object()) return false;
  for (const auto& [key, list] : v.items()) {
    if (key.empty() || key.size() > max_key_bytes || !list.is_array()) return false;
    std::vector<stats_sample> points(list.size());
    for (std::size_t i = 0; i < list.size(); ++i)
      if (!decode_point(list[i], points[i])) return false;
    out.emplace_back(key, std::move(points));
  }
  return true;
}

std::size_t restore_all(const series_list& list, stats_history& into, std::int64_t now_ms) {
  std::size_t n = 0;
  for (const auto& [key, points] : list) {
    into.restore(key, points);
    n += points.size();
  }
  into.prune(now_ms);
  return n;
}

}  // namespace

std::string encode_stats_histories(const stats_history& containers, const stats_history& hosts,
                                   std::int64_t now_ms) {
  msgpack::sbuffer buf;
  packer pk(buf);
  pk.pack_map(4);
  pack_key(pk, "v");
  pk.pack(file_version);
  pack_key(pk, "saved_ms");
  pk.pack(now_ms);
  pack_key(pk, "containers");
  encode_one(pk, containers);
  pack_key(pk, "hosts");
  encode_one(pk, hosts);
  return std::string(buf.data(), buf.size());
}

common::result<std::size_t> decode_stats_histories(std::string_view bytes,
                                                   stats_history& containers, stats_history& hosts,
                                                   std::int64_t now_ms) {
  json doc = json::from_msgpack(bytes.begin(), bytes.end(), true, false);
  if (doc.is_discarded() || !doc.is_object())
    return make_error(errc::malformed, "not a stats history file (msgpack)");
  auto v = doc.find("v");
  if (v == doc.end() || !v->is_number_integer() || v->get<int>() != file_version)
    return make_error(errc::malformed, "a stats history file of another version");
  series_list saved_containers, saved_hosts;
  auto c = doc.find("containers"), h = doc.find("hosts");
  if (c == doc.end() || h == doc.end() || !decode_one(*c, saved_containers) ||
      !decode_one(*h, saved_hosts))
    return make_error(errc::malformed, "a stats history file with a malformed series");
  return restore_all(saved_containers, containers, now_ms) +
         restore_all(saved_hosts, hosts, now_ms);
}

std::size_t max_file_bytes(const stats_history_limits& limits) {
  stats_history shape(limits);
  std::size_t series = shape.max_points() * max_point_bytes + max_series_overhead;
  return 2 * limits.max_series * series + 64;  // + the top-level map and its small fields
}

common::result<void> save_stats_file(const std::string& path, const stats_history& containers,
                                     const stats_history& hosts, std::int64_t now_ms) {
  std::string bytes = encode_stats_histories(containers, hosts, now_ms);
  std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(errc::unavailable, "cannot write " + temporary);
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (ok && std::rename(temporary.c_str(), path.c_str()) == 0) return {};
  ::unlink(temporary.c_str());
  return make_error(errc::unavailable, "cannot write " + path);
}

common::result<std::size_t> load_stats_file(const std::string& path, stats_history& containers,
                                            stats_history& hosts, std::int64_t now_ms) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::size_t{0};  // first start: nothing saved
  std::size_t bound = max_file_bytes(containers.limits());
  if (static_cast<std::size_t>(st.st_size) > bound)
    return make_error(errc::too_large, path + " is larger than the history's bound (" +
                                           std::to_string(bound) + " bytes)");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::unavailable, "cannot read " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto r = decode_stats_histories(bytes, containers, hosts, now_ms);
  if (!r) return make_error(r.err().code, path + ": " + r.err().message);
  return r;
}

stats_history_keeper::stats_history_keeper(std::string path, stats_history& containers,
                                           stats_history& hosts, std::chrono::milliseconds period)
    : path_(std::move(path)), containers_(containers), hosts_(hosts), period_(period) {}

stats_history_keeper::~stats_history_keeper() {
  stop();
}

void stats_history_keeper::start() {
  thread_ = std::thread([this] { run(); });
}

void stats_history_keeper::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void stats_history_keeper::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait_for(lock, period_, [this] { return stopping_; });
    bool last = stopping_;
    lock.unlock();
    save_now();  // on every period, and once more when stopping
    lock.lock();
    if (last) return;
  }
}

void stats_history_keeper::save_now() {
  auto r = save_stats_file(path_, containers_, hosts_, common::now_ms());
  if (!r) {
    DM_LOG(warn) << "stats history not saved: " << r.err().message;
  }
}

}  // namespace dockmesh::bridge
