#include "common/config.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <doctest/doctest.h>

#include "common/curve_keys.hpp"
#include "common/envelope.hpp"

using namespace dockmesh::common;

namespace {
po::options_description table() {
  po::options_description d("test");
  d.add_options()("docker-socket", po::value<std::string>()->default_value("/var/run/docker.sock"),
                  "socket")("fqdn", po::value<std::string>(), "name")(
      "label", po::value<std::vector<std::string>>()->composing(), "labels");
  return d;
}
}  // namespace

TEST_CASE("command line beats environment beats config file beats default") {
  std::string file = "/tmp/dockmesh_config_test.conf";
  std::ofstream(file) << "fqdn = from-file\ndocker-socket = /file.sock\nlabel = a=1\n";
  ::setenv("DOCKMESH_DOCKER_SOCKET", "/env.sock", 1);
  auto d = table();
  const char* argv[] = {"x", "--config", file.c_str(), "--label", "b=2"};
  auto pc = parse_config(5, argv, "x", d);
  ::unsetenv("DOCKMESH_DOCKER_SOCKET");
  CHECK(pc.vm["fqdn"].as<std::string>() == "from-file");
  CHECK(pc.vm["docker-socket"].as<std::string>() == "/env.sock");
  auto labels = pc.vm["label"].as<std::vector<std::string>>();
  CHECK(labels.size() == 2);
  auto text = render_config(d, pc.vm);
  CHECK(text.find("fqdn = from-file") != std::string::npos);
}

TEST_CASE("unknown options and bad log levels are start-up errors") {
  auto d = table();
  const char* argv[] = {"x", "--no-such-thing"};
  CHECK_THROWS_AS(parse_config(2, argv, "x", d), std::runtime_error);
  auto d2 = table();
  const char* argv2[] = {"x", "--log-level", "loud"};
  CHECK_THROWS_AS(parse_config(3, argv2, "x", d2), std::runtime_error);
}

TEST_CASE("key files round-trip and bad ones are refused") {
  auto k = generate_keypair();
  CHECK(valid_z85_key(k.public_key));
  std::string path = "/tmp/dockmesh_key_test.key";
  save_keypair(path, k);
  auto l = load_keypair(path);
  CHECK(l.public_key == k.public_key);
  CHECK(l.secret_key == k.secret_key);
  CHECK(resolve_public_key(path) == k.public_key);
  CHECK(resolve_public_key(k.public_key) == k.public_key);
  std::ofstream("/tmp/dockmesh_bad.key") << "public-key = short\n";
  CHECK_THROWS(load_keypair("/tmp/dockmesh_bad.key"));
  CHECK_THROWS(resolve_public_key("/nonexistent/key"));
  std::string bare = "0123456789=abcdefghij0123456789=abcdefgh";  // '=' is a Z85 character
  std::ofstream("/tmp/dockmesh_bare.pub") << bare << "\n";
  CHECK(resolve_public_key("/tmp/dockmesh_bare.pub") == bare);
}

TEST_CASE(
    "--broker-key: z85:KEY and file:PATH are explicit; a bare existing file wins over a key") {
  auto keys = generate_keypair();
  CHECK(resolve_public_key("z85:" + keys.public_key) == keys.public_key);
  CHECK(resolve_public_key(keys.public_key) == keys.public_key);
  CHECK_THROWS(resolve_public_key("z85:short"));
  // A key file whose path is 40 characters of the Z85 alphabet: read as a file, not as a key.
  std::string dir = "/tmp/";
  std::string name = "k";  // appended: `"k" + std::string` trips GCC 12's -O3 -Wrestrict
  name += keys.public_key.substr(0, 40 - dir.size() - 1);
  for (char& c : name)
    if (c == '/' || c == '.') c = 'x';
  std::string path = dir + name;
  REQUIRE(path.size() == 40);
  auto other = generate_keypair();
  {
    std::ofstream out(path);
    out << "public-key = " << other.public_key << "\n";
  }
  CHECK(resolve_public_key(path) == other.public_key);
  CHECK(resolve_public_key("file:" + path) == other.public_key);
  std::remove(path.c_str());
  CHECK_THROWS(resolve_public_key("file:" + path));
}

TEST_CASE("request_id_from_key: stable per (user, key), different across users, checked") {
  auto a = request_id_from_key("alice", "order-42");
  REQUIRE(a);
  CHECK(a->rfind("key-", 0) == 0);
  CHECK(a->size() == 36);
  CHECK(*request_id_from_key("alice", "order-42") == *a);
  CHECK(*request_id_from_key("bob", "order-42") != *a);
  CHECK(*request_id_from_key("ali", "ceorder-42") != *a);
  CHECK_FALSE(request_id_from_key("alice", ""));
  CHECK_FALSE(request_id_from_key("alice", std::string(300, 'k')));
}
