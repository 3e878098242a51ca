#include "common/config.hpp"

#include <cstdlib>
#include <fstream>

#include <doctest/doctest.h>

#include "common/curve_keys.hpp"

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
