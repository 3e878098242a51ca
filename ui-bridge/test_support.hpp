// test_support: helpers for bridge_tests only -- a temporary directory removed at scope exit.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace dockmesh::bridge::test {

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/bridge_test_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace dockmesh::bridge::test
