#include "common/private_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using dockmesh::common::write_private_file;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a private file is written whole, 0600, with no temporary left behind") {
  fs::path dir = fs::temp_directory_path() / ("dm-private-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "secret").string();
  ::umask(0);  // the file is 0600 whatever the umask
  write_private_file(path, "first\n");
  ::umask(022);
  write_private_file(path, "second, longer\n");  // replaces, never truncates in place
  CHECK(read_all(path) == "second, longer\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  CHECK_THROWS_WITH_AS(write_private_file((dir / "missing" / "secret").string(), "x"),
                       doctest::Contains("cannot write"), std::runtime_error);
  fs::remove_all(dir);
}
