#include "bench/bench_support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace dockmesh::bench {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

summary summarize(std::vector<double> samples) {
  summary s;
  s.n = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.p50 = percentile(samples, 0.50);
  s.p99 = percentile(samples, 0.99);
  s.p999 = percentile(samples, 0.999);
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(s.n);
  return s;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string with_unit(double v, int decimals, std::string_view unit) {
  return fixed(v, decimals) + " " + std::string(unit);
}

std::string ratio_text(double value, double baseline) {
  if (baseline <= 0) return "-";
  return fixed(value / baseline, 3) + "x";
}

void print_figure(const figure& f) {
  std::cout << "RESULT | " << f.name << " | " << f.value << " | " << f.baseline << " | " << f.ratio
            << " | " << f.target << " | " << f.verdict << " | " << f.note << std::endl;
}

proc_usage read_proc_usage(pid_t pid) {
  proc_usage u;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return u;
  // The command name may hold spaces and parentheses: fields resume after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return u;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string w; rest >> w;) f.push_back(w);
  // rest starts at field 3 (state): utime is field 14, stime 15, num_threads 20.
  if (f.size() < 18) return u;
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  u.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  u.threads = std::stoi(f[17]);
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) u.rss_kb = std::atoll(line.c_str() + 6);
  u.ok = true;
  return u;
}

double cores_used(const proc_usage& before, const proc_usage& after, double seconds) {
  if (!before.ok || !after.ok || seconds <= 0) return 0;
  return (after.cpu_seconds - before.cpu_seconds) / seconds;
}

proc_monitor::proc_monitor(pid_t pid, std::chrono::milliseconds every) : pid_(pid) {
  thread_ = std::thread([this, every] {
    while (!stop_.load()) {
      auto u = read_proc_usage(pid_);
      if (u.ok) {
        std::lock_guard lock(mutex_);
        latest_ = u;
        if (u.rss_kb > peak_rss_kb_.load()) peak_rss_kb_ = u.rss_kb;
      }
      for (auto waited = std::chrono::milliseconds(0); waited < every && !stop_.load();
           waited += std::chrono::milliseconds(20))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

proc_monitor::~proc_monitor() {
  stop_ = true;
  thread_.join();
}

proc_usage proc_monitor::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

namespace {

bool set_affinity(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

}  // namespace

void pin_to_cpus(const std::vector<int>& cpus) {
  if (set_affinity(cpus)) return;
  std::string list;
  for (int c : cpus) list += (list.empty() ? "" : ",") + std::to_string(c);
  throw std::runtime_error("cannot run on CPUs " + list + ": " + std::strerror(errno));
}

child_process::child_process(const std::vector<std::string>& argv, const std::string& log_file,
                             const std::vector<int>& cpus) {
  if (argv.empty()) throw std::invalid_argument("child_process: empty command");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // If the benchmark dies without stopping us (killed by a timeout), we go too.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    // Signals blocked by the parent's threads must not stay blocked in the child.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!cpus.empty() && !set_affinity(cpus)) {
      std::fprintf(stderr, "cannot set the CPU affinity: %s\n", std::strerror(errno));
      _exit(127);
    }
    execv(args[0], args.data());
    std::fprintf(stderr, "exec %s failed\n", args[0]);
    _exit(127);
  }
}

child_process::~child_process() {
  if (pid_ > 0 && !reaped_) stop(std::chrono::milliseconds(3000));
}

bool child_process::running() {
  if (pid_ <= 0 || reaped_) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return false;
  }
  return r == 0;
}

void child_process::kill_now() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  reaped_ = true;
  status_ = -SIGKILL;
}

int child_process::stop(std::chrono::milliseconds grace) {
  if (!running()) return status_;
  ::kill(pid_, SIGTERM);
  auto deadline = steady::now() + grace;
  while (steady::now() < deadline) {
    if (!running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill_now();
  return status_;
}

static bool port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

int free_port_block(int count, int from) {
  for (int p = from; p + count < 32000; p += count + 1) {
    bool all = true;
    for (int i = 0; i < count && all; ++i) all = port_free(p + i);
    if (all) return p;
  }
  throw std::runtime_error("no block of free loopback ports found");
}

long raise_fd_limit(long want) {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_max != RLIM_INFINITY && static_cast<long>(r.rlim_max) < want) {
    rlimit higher{static_cast<rlim_t>(want), static_cast<rlim_t>(want)};
    if (setrlimit(RLIMIT_NOFILE, &higher) == 0) return want;
  }
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  getrlimit(RLIMIT_NOFILE, &r);
  return static_cast<long>(r.rlim_cur);
}

std::string make_temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("cannot create a directory like " + tmpl);
  return buf.data();
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void write_file(const std::string& path, const std::string& text, unsigned mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) throw std::runtime_error("cannot write " + path);
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  close(fd);
  if (done != text.size()) throw std::runtime_error("short write to " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int online_cpus() {
  return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
}

std::int64_t memory_total_kb() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("MemTotal:", 0) == 0) return std::atoll(line.c_str() + 9);
  return 0;
}

}  // namespace dockmesh::bench
