// replay_main: a stand-in for libFuzzer's driver, so that every fuzz target's committed corpus
// (seeds plus the reproducer of every crash ever found) runs as an ordinary CTest test with any
// compiler, in the plain and the sanitized build trees. Arguments are files or directories (read
// one level deep, sorted); it fails when given nothing to replay, so a misplaced corpus is noticed.
// Each input runs in a child process, so one failing input (an abort, a sanitizer report) does not
// hide the others: every failing file is named, and the exit status is 1 if any failed.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace fs = std::filesystem;

static std::vector<fs::path> inputs(const std::vector<std::string>& args) {
  std::vector<fs::path> out;
  for (const auto& a : args) {
    if (fs::is_directory(a)) {
      for (const auto& e : fs::directory_iterator(a))
        if (e.is_regular_file()) out.push_back(e.path());
    } else if (fs::is_regular_file(a)) {
      out.emplace_back(a);
    } else {
      std::fprintf(stderr, "replay: note: no such file or directory (skipped): %s\n", a.c_str());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto files = inputs(args);
  if (files.empty()) {
    std::fprintf(stderr, "replay: nothing to replay (usage: %s CORPUS_DIR|FILE...)\n", argv[0]);
    return 2;
  }
  std::vector<std::string> failed;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      // A copy in its own allocation, so that ASan catches a read one past the end.
      std::vector<std::uint8_t> buf(bytes.begin(), bytes.end());
      LLVMFuzzerTestOneInput(buf.data(), buf.size());
      std::fflush(nullptr);
      _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "replay: FAILED %s\n", f.c_str());
      failed.push_back(f.string());
    }
  }
  if (!failed.empty()) {
    std::printf("replay: %zu of %zu inputs failed:\n", failed.size(), files.size());
    for (const auto& f : failed) std::printf("  %s\n", f.c_str());
    return 1;
  }
  std::printf("replay: %zu inputs, no failure\n", files.size());
  return 0;
}
