#include "agent/machine_fqdn.hpp"

#include <unistd.h>

#include <array>
#include <string>

#include <doctest/doctest.h>

#include "common/topic.hpp"

TEST_CASE("machine_fqdn starts with the host name and is a valid topic segment") {
  std::array<char, 256> buf{};
  REQUIRE(::gethostname(buf.data(), buf.size() - 1) == 0);
  std::string host(buf.data());
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string fqdn = dockmesh::agent::machine_fqdn();
  CHECK(fqdn.rfind(host.substr(0, host.find('.')), 0) == 0);
  CHECK(dockmesh::common::valid_segment(fqdn));
}
