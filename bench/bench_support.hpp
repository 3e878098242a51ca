// bench_support: what every dockmesh benchmark program shares -- latency summaries, the one-line
// result format that bench/run.sh collects into its table, /proc sampling (CPU seconds, RSS),
// child processes started and stopped by pid, free loopback ports, key files. Owned by bench/.
// Thread affinity only on request (pin_to_cpus, child_process's cpus); nothing here blocks except
// child_process::stop (bounded by its grace).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dockmesh::bench {

using steady = std::chrono::steady_clock;

inline double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Summary of a set of samples (any unit; the caller knows which).
struct summary {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, p999 = 0, min = 0, max = 0, mean = 0;
};
summary summarize(std::vector<double> samples);
// Nearest-rank percentile of sorted samples, q in [0, 1].
double percentile(const std::vector<double>& sorted, double q);

// One line of the result table: "RESULT | name | value | baseline | ratio | target | verdict |
// note". run.sh greps these lines; everything else a program prints is commentary.
struct figure {
  std::string name;
  std::string value;
  std::string baseline = "-";
  std::string ratio = "-";
  std::string target = "-";
  std::string verdict = "info";  // PASS, FAIL, info (no target), ERROR (not measured)
  std::string note;
};
void print_figure(const figure& f);
std::string fixed(double v, int decimals);
std::string with_unit(double v, int decimals, std::string_view unit);
std::string ratio_text(double value, double baseline);  // "0.97x", "-" when baseline is 0
inline std::string pass_fail(bool pass) {
  return pass ? "PASS" : "FAIL";
}

// /proc/<pid>: CPU time used so far (user + system, seconds) and resident set size.
struct proc_usage {
  bool ok = false;
  double cpu_seconds = 0;
  std::int64_t rss_kb = 0;
  int threads = 0;
};
proc_usage read_proc_usage(pid_t pid);

// CPU cores used by `pid` between two samples taken `seconds` apart.
double cores_used(const proc_usage& before, const proc_usage& after, double seconds);

// Samples /proc/<pid> every `every` on a thread of its own, from construction to destruction.
class proc_monitor {
 public:
  proc_monitor(pid_t pid, std::chrono::milliseconds every);
  ~proc_monitor();
  proc_monitor(const proc_monitor&) = delete;
  proc_monitor& operator=(const proc_monitor&) = delete;
  std::int64_t peak_rss_kb() const { return peak_rss_kb_.load(); }
  proc_usage latest() const;

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> peak_rss_kb_{0};
  mutable std::mutex mutex_;
  proc_usage latest_;
  std::thread thread_;
};

// A process this program started (fork + exec), stopped by its pid only. Output goes to
// `log_file` (appended). The destructor stops it if it is still running.
class child_process {
 public:
  // `cpus`: when not empty, the child runs only on these CPUs (sched_setaffinity before exec,
  // so that every thread it starts inherits them).
  child_process(const std::vector<std::string>& argv, const std::string& log_file,
                const std::vector<int>& cpus = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();   // reaps the child if it has exited
  void kill_now();  // SIGKILL, then reap
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (or -signal).
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// Confines the calling thread (and the threads and children it starts afterwards) to `cpus`.
// Throws std::runtime_error naming the CPUs when the kernel refuses.
void pin_to_cpus(const std::vector<int>& cpus);

// A port p such that p..p+count-1 are all free on 127.0.0.1 (checked by binding), from `from` up.
int free_port_block(int count, int from = 20000);
// Raises the soft limit on open files to the hard limit (and the hard limit to `want` when the
// process may); returns the soft limit in force afterwards.
long raise_fd_limit(long want = 65536);

// A fresh directory under $TMPDIR (or /tmp) named prefix-XXXXXX; removed by remove_tree.
std::string make_temp_dir(const std::string& prefix);
void remove_tree(const std::string& path);
void write_file(const std::string& path, const std::string& text, unsigned mode = 0644);
std::string read_file(const std::string& path);  // throws when missing

// Machine facts for the report header.
int online_cpus();
std::int64_t memory_total_kb();

}  // namespace dockmesh::bench
