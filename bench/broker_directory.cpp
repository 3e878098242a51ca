// broker_directory: what the directory's RocksDB writes cost the hub loop, to decide whether
// they need a thread of their own. With N simulated hosts (default 5,000, the design's fleet):
//   register      a new host: directory change + immediate (non-sync, WAL) write
//   heartbeat     a bare heartbeat: in-memory only
//   flush         the 200 ms flush, over 60 simulated seconds of 1 Hz heartbeats from every host
//                 (a host whose record did not change is written at most every 30 s, at most
//                 100 such hosts per flush)
//   sync put      one fsync'ed write (key and token changes; admin actions only)
// Usage: bench_broker_directory [--hosts N]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "broker/broker_core.hpp"
#include "broker/state_db.hpp"
#include "common/log.hpp"
#include "common/protocol/names.hpp"

namespace dm_names = dockmesh::common::protocol::names;

namespace {

using namespace dockmesh;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

common::envelope heartbeat(const std::string& action, const std::string& fqdn, int seq) {
  common::envelope e;
  e.id = common::new_message_id();
  e.action = action;
  e.from = fqdn;
  e.body = {{"fqdn", fqdn},
            {"incarnation", 1},
            {"sequence", seq},
            {"docker_up", true},
            {"docker_version", "20.10.24"},
            {"api_version", "1.41"},
            {"cpus", 8},
            {"memory_bytes", 16LL << 30},
            {"labels", {{"region", "eu"}}},
            {"containers_running", 3},
            {"containers_total", 5},
            {"agent_version", "0.1.0"},
            {"os", "Debian GNU/Linux 12"},
            {"kernel", "6.1.0"}};
  return e;
}

double us_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::micro>(clock_type::now() - t0).count();
}

void report(const char* what, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(q * us.size()))];
  };
  std::printf("  %-44s p50 %9.1f us   p99 %9.1f us   max %9.1f us\n", what, at(0.5), at(0.99),
              us.back());
}

}  // namespace

int main(int argc, char** argv) {
  int hosts = 5000;
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::string(argv[i]) == "--hosts") hosts = std::stoi(argv[i + 1]);
  common::set_log_level(common::log_level::error);
  auto dir =
      std::filesystem::temp_directory_path() / ("broker-directory-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "authorized_keys") << "# none\n";
  broker::broker_settings s;
  s.data_dir = (dir / "data").string();
  s.authorized_keys_file = (dir / "authorized_keys").string();
  {
    broker::broker_core core(s, common::generate_keypair().public_key, 0);
    std::vector<double> reg, beat, flush;
    for (int h = 0; h < hosts; ++h) {
      auto e = heartbeat(std::string(dm_names::register_host),
                         "host" + std::to_string(h) + ".mesh.test", 1);
      auto t0 = clock_type::now();
      (void)core.on_announcement(e, 0);
      reg.push_back(us_since(t0));
    }
    // Simulated time: host h heartbeats at s*1000 + h*1000/hosts ms; a flush every 200 ms.
    std::int64_t next_flush = 200;
    for (int sec = 1; sec <= 60; ++sec) {
      for (int h = 0; h < hosts; ++h) {
        std::int64_t now = sec * 1000LL + h * 1000LL / hosts;
        if (now >= next_flush) {
          auto t1 = clock_type::now();
          core.flush(next_flush);
          flush.push_back(us_since(t1));
          next_flush += 200;
        }
        auto e = heartbeat(std::string(dm_names::heartbeat),
                           "host" + std::to_string(h) + ".mesh.test", 1 + sec);
        auto t0 = clock_type::now();
        (void)core.on_announcement(e, now);
        beat.push_back(us_since(t0));
      }
    }
    std::printf("%d hosts, RocksDB in %s:\n", hosts, dir.c_str());
    report("register (change, written at once)", reg);
    report("bare heartbeat (in memory)", beat);
    report("200 ms flush (60 s of 1 Hz heartbeats)", flush);
  }
  {
    broker::state_db db((dir / "sync").string());
    std::vector<double> sync;
    for (int i = 0; i < 50; ++i) {
      auto t0 = clock_type::now();
      (void)db.put("k/" + std::to_string(i), json{{"i", i}}, true);
      sync.push_back(us_since(t0));
    }
    report("sync put (key/token change)", sync);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
