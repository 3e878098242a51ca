#include "cli/ctl_commands.hpp"

#include <grp.h>
#include <sys/stat.h>

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "common/config.hpp"
#include "common/curve_keys.hpp"

namespace po = boost::program_options;
using dockmesh::cli::command_line;
using dockmesh::cli::parse_command_line;
using dockmesh::cli::run_command;

namespace {

struct run_result {
  int rc;
  std::string out;
  std::string err;
};

// Parses and runs a dockmeshctl command line the way main() does.
run_result run(std::vector<std::string> args) {
  args.insert(args.begin(), "dockmeshctl");
  po::options_description options;
  dockmesh::cli::add_ctl_options(options);
  auto cl = parse_command_line(args, options);
  REQUIRE(cl.ok());
  std::vector<const char*> argv;
  for (const auto& a : cl->global_args) argv.push_back(a.c_str());
  auto config = dockmesh::common::parse_config(static_cast<int>(argv.size()), argv.data(),
                                               "dockmeshctl", options);
  std::ostringstream out, err;
  int rc = run_command(*cl, config.vm, out, err);
  return {rc, out.str(), err.str()};
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("dockmeshctl-test-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

}  // namespace

TEST_CASE("keygen writes a private key file and prints its public key") {
  std::string path = temp_path("key");
  std::filesystem::remove(path);
  auto r = run({"keygen", "--out", path});
  CHECK(r.rc == 0);
  auto keys = dockmesh::common::load_keypair(path);
  CHECK(r.out == keys.public_key + "\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto again = run({"keygen", "--out", path});
  CHECK(again.rc == 2);
  CHECK(again.err.find("exists") != std::string::npos);
  CHECK(dockmesh::common::load_keypair(path).public_key == keys.public_key);  // untouched

  auto forced = run({"keygen", "--out", path, "--force"});
  CHECK(forced.rc == 0);
  CHECK(dockmesh::common::load_keypair(path).public_key != keys.public_key);
  std::filesystem::remove(path);
}

TEST_CASE("keygen --group writes a 0640 file of that group; an unknown group is a usage error") {
  std::string path = temp_path("group-key");
  std::filesystem::remove(path);
  const struct group* own = ::getgrgid(::getgid());
  REQUIRE(own != nullptr);
  auto r = run({"keygen", "--out", path, "--group", own->gr_name});
  CHECK(r.rc == 0);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(st.st_gid == ::getgid());
  std::filesystem::remove(path);
  auto bad = run({"keygen", "--out", path, "--group", "no-such-group-dockmesh"});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("no group named") != std::string::npos);
  CHECK(!std::filesystem::exists(path));
}

TEST_CASE("no broker answering is a timeout: exit 2 and one line on stderr") {
  std::string key = temp_path("client");
  std::filesystem::remove(key);
  REQUIRE(run({"keygen", "--out", key}).rc == 0);
  // Port 9 on loopback: nothing listens there in the test environment.
  std::vector<std::string> common{"--broker", "127.0.0.1:9", "--broker-key", key,
                                  "--key",    key,           "--timeout",    "300"};
  auto hosts = common;
  hosts.push_back("hosts");
  auto r = run(hosts);
  CHECK(r.rc == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("no broker answered 'hosts'") != std::string::npos);

  auto send = common;
  send.insert(send.end(), {"send", "--host", "host1.mesh.test", R"({"action":"ping"})"});
  auto s = run(send);
  CHECK(s.rc == 2);
  CHECK(s.err.find("did not come up") != std::string::npos);
  std::filesystem::remove(key);
}

TEST_CASE("usage errors found after parsing exit 2") {
  CHECK(run({"keygen"}).rc == 2);
  auto bad_message = run({"--broker-key", "x", "send", "{not json"});
  CHECK(bad_message.rc == 2);
  CHECK(bad_message.err.find("not valid JSON") != std::string::npos);
  auto bad_timeout = run({"--timeout", "0", "hosts"});
  CHECK(bad_timeout.rc == 2);
  CHECK(bad_timeout.err.find("--timeout") != std::string::npos);
}
