#include "common/create_policy.hpp"

#include <doctest/doctest.h>

using namespace dockmesh::common;
using nlohmann::json;

namespace {

create_container_args args(const json& body) {
  auto a = parse_create_container_args(body);
  REQUIRE(a);
  return *a;
}

std::string refusal(const json& body, const create_policy& p = {}) {
  auto r = check_create(args(body), p, role::user);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::forbidden);
  return r.err().message;
}

}  // namespace

TEST_CASE("every privilege-widening field is refused by name, whatever its value") {
  for (auto f : forbidden_create_fields()) {
    json body = {{"image", "x"}, {std::string(f), false}};
    auto r = check_forbidden_fields(body);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::forbidden);
    CHECK(r.err().message.find("field '" + std::string(f) + "'") == 0);
  }
  CHECK(check_forbidden_fields({{"image", "x"}, {"env", {"A=1"}}}));
  for (const char* f : {"privileged", "cap_add", "devices", "sysctls", "security_opt", "pid_mode",
                        "ipc_mode", "uts_mode"})
    CHECK(!check_forbidden_fields({{f, true}}));
}

TEST_CASE(
    "default policy: no host network, no host path, ports from 1024, container: needs a look") {
  CHECK(refusal({{"image", "x"}, {"network_mode", "host"}}).find("field 'network_mode'") == 0);
  CHECK(refusal({{"image", "x"}, {"binds", {"/etc:/x"}}}).find("field 'binds[0]'") == 0);
  CHECK(refusal({{"image", "x"}, {"ports", {{{"container_port", 80}, {"host_port", 80}}}}})
            .find("field 'ports[0].host_port'") == 0);
  CHECK(refusal({{"image", "x"}, {"network_mode", "somenet"}}).find("network_mode") !=
        std::string::npos);
  auto refs = check_create(args({{"image", "x"},
                                 {"network_mode", "container:abc"},
                                 {"binds", {"data:/d", "cache:/c:ro"}}}),
                           {}, role::user);
  REQUIRE(refs);
  CHECK(refs->network_container == "abc");
  REQUIRE(refs->volumes.size() == 2);
  CHECK(refs->volumes[1] == std::pair<std::string, std::string>{"binds[1]", "cache"});
  CHECK(check_create(args({{"image", "x"}, {"network_mode", "none"}}), {}, role::user));
}

TEST_CASE("admins pass; a host's policy lifts what it names and no more") {
  auto admin = check_create(
      args({{"image", "x"}, {"network_mode", "host"}, {"binds", {"/etc:/x"}}}), {}, role::admin);
  REQUIRE(admin);
  CHECK(admin->volumes.empty());
  create_policy p;
  p.bind_prefixes = {"/srv/shared"};
  p.host_network = true;
  p.port_min = 8000;
  p.port_max = 8100;
  CHECK(check_create(args({{"image", "x"}, {"network_mode", "host"}}), p, role::user));
  CHECK(check_create(args({{"image", "x"}, {"binds", {"/srv/shared/a:/a"}}}), p, role::user));
  CHECK(check_create(args({{"image", "x"}, {"binds", {"/srv/shared:/a"}}}), p, role::user));
  refusal({{"image", "x"}, {"binds", {"/srv/sharedx:/a"}}}, p);
  refusal({{"image", "x"}, {"ports", {{{"container_port", 80}, {"host_port", 8101}}}}}, p);
  CHECK(check_create(
      args({{"image", "x"}, {"ports", {{{"container_port", 80}, {"host_port", 8050}}}}}), p,
      role::user));
}

TEST_CASE("pulls: registry allow-list, by host with or without port") {
  CHECK(registry_of("busybox") == "docker.io");
  CHECK(registry_of("local/busybox:1") == "docker.io");
  CHECK(registry_of("localhost:5000/busybox") == "localhost:5000");
  CHECK(registry_of("registry.example.test/a/b:1") == "registry.example.test");
  create_policy p;
  CHECK(check_pull("busybox", p, role::admin));
  auto r = check_pull("busybox", p, role::user);
  REQUIRE_FALSE(r);
  CHECK(r.err().message.find("field 'image'") == 0);
  p.registries = {"localhost"};
  CHECK(check_pull("localhost:5000/busybox", p, role::user));
  CHECK_FALSE(check_pull("localhostx:5000/busybox", p, role::user));
  CHECK_FALSE(check_pull("busybox", p, role::user));
}

TEST_CASE("policy JSON round-trips and bad configuration is refused") {
  create_policy p;
  p.bind_prefixes = {"/srv"};
  p.registries = {"localhost:5000"};
  p.host_network = true;
  auto back = create_policy_from_json(to_json(p));
  REQUIRE(back);
  CHECK(back->bind_prefixes == p.bind_prefixes);
  CHECK(back->registries == p.registries);
  CHECK(back->host_network);
  p.bind_prefixes = {"/srv/../etc"};
  CHECK_FALSE(validate_policy(p));
  p.bind_prefixes = {"relative"};
  CHECK_FALSE(validate_policy(p));
  p.bind_prefixes = {};
  p.port_min = 0;
  CHECK_FALSE(validate_policy(p));
}
