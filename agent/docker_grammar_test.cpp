#include "agent/docker_grammar.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace dockmesh::agent;

namespace {
bool ok(check_result r) {
  return r.ok();
}
std::string message(check_result r) {
  return r.ok() ? "" : r.err().message;
}
}  // namespace

TEST_CASE("container references: ids, names, and nothing that could move a path") {
  CHECK(ok(check_container_ref("id", "075df898b122")));
  CHECK(ok(check_container_ref("id", std::string(64, 'a'))));
  CHECK(ok(check_container_ref("id", "web-1")));
  CHECK(ok(check_container_ref("id", "/web_1.a")));
  CHECK(ok(check_container_ref("id", "a")));
  for (const std::string& bad :
       std::vector<std::string>{"", "../etc", "..", ".", "a/b", "a?b", "a#b", "a%2Fb", "a b", "-x",
                                "_x", std::string("a\nb"), std::string("a\0b", 3), "ä",
                                std::string(129, 'a'), "a;b", "a&b=c"}) {
    CAPTURE(bad);
    CHECK_FALSE(ok(check_container_ref("id", bad)));
  }
  CHECK(message(check_container_ref("id", "../x")).find("field 'id'") == 0);
}

TEST_CASE("messages quote a short, control-free excerpt") {
  auto m = message(check_container_ref("id", std::string("x\x1b[31m", 6) + std::string(500, 'y')));
  CHECK(m.find('\x1b') == std::string::npos);
  CHECK(m.size() < 300);
}

TEST_CASE("container names for create") {
  CHECK(ok(check_container_name("name", "ab")));
  CHECK(ok(check_container_name("name", "My.App_1-x")));
  CHECK_FALSE(ok(check_container_name("name", "a")));
  CHECK_FALSE(ok(check_container_name("name", "/ab")));
  CHECK_FALSE(ok(check_container_name("name", std::string(121, 'a'))));
}

TEST_CASE("image references follow Docker's grammar") {
  for (const char* good :
       {"busybox", "local/busybox:latest", "localhost:5000/busybox:latest",
        "registry.example.com/team/app:1.2.3", "a/b/c", "my-app__x.y",
        "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "sha256:2ed27b572a63edfc7010ef599472d44746509f0c983b00c81601b907b5b2043d", "2ed27b572a63",
        "Host:5000/x", "x:Tag_1.0-rc"}) {
    CAPTURE(good);
    CHECK(ok(check_image_ref("image", good)));
  }
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "Busybox",
                                                         "local/BusyBox",
                                                         "../x",
                                                         "a/../b",
                                                         "a//b",
                                                         "a/",
                                                         "/a",
                                                         "a:b:c",
                                                         "a?x=1",
                                                         "a#b",
                                                         "a b",
                                                         "a%2Fb",
                                                         ":tag",
                                                         "a:",
                                                         "a@sha256:zz",
                                                         "a-",
                                                         "-a",
                                                         "a..b",
                                                         "a___b",
                                                         std::string(256, 'a'),
                                                         "host:99999x/a",
                                                         std::string("a\nb")}) {
    CAPTURE(bad);
    CHECK_FALSE(ok(check_image_ref("image", bad)));
  }
}

TEST_CASE("labels and env entries") {
  CHECK(ok(check_label_key("labels", "com.example/app-tier_1")));
  CHECK_FALSE(ok(check_label_key("labels", "")));
  CHECK_FALSE(ok(check_label_key("labels", "a=b")));
  CHECK_FALSE(ok(check_label_key("labels", "a.")));
  CHECK_FALSE(ok(check_label_key("labels", "a b")));
  CHECK(ok(check_label_value("labels.a", "any text, even = and / and ü")));
  CHECK_FALSE(ok(check_label_value("labels.a", "line\nbreak")));
  CHECK(ok(check_env_entry("env[0]", "PATH=/bin:/usr/bin")));
  CHECK(ok(check_env_entry("env[0]", "_X=")));
  CHECK(ok(check_env_entry("env[0]", "A=tab\there")));
  CHECK_FALSE(ok(check_env_entry("env[0]", "NOVALUE")));
  CHECK_FALSE(ok(check_env_entry("env[0]", "1A=x")));
  CHECK_FALSE(ok(check_env_entry("env[0]", "A-B=x")));
  CHECK_FALSE(ok(check_env_entry("env[0]", "A=x\ny")));
  CHECK(message(check_env_entry("env[3]", "bad")).find("field 'env[3]'") == 0);
}

TEST_CASE("signals are normalised or refused") {
  CHECK(*normalize_signal("signal", "KILL") == "SIGKILL");
  CHECK(*normalize_signal("signal", "sigterm") == "SIGTERM");
  CHECK(*normalize_signal("signal", "SIGHUP") == "SIGHUP");
  CHECK(*normalize_signal("signal", "9") == "9");
  for (const char* bad : {"", "0", "65", "-9", "SIGFOO", "KILL;rm", "9x", "SIGKILLSIGKILL"}) {
    CAPTURE(bad);
    CHECK_FALSE(normalize_signal("signal", bad).ok());
  }
}

TEST_CASE("binds, paths, users, network modes, restart policies, templates") {
  bool host = false;
  CHECK(ok(check_bind("binds[0]", "/srv/data:/data:ro", &host)));
  CHECK(host);
  CHECK(ok(check_bind("binds[0]", "myvol:/data", &host)));
  CHECK_FALSE(host);
  CHECK_FALSE(ok(check_bind("binds[0]", "/srv/../etc:/data", &host)));
  CHECK_FALSE(ok(check_bind("binds[0]", "/srv:data", &host)));
  CHECK_FALSE(ok(check_bind("binds[0]", "/srv:/data:rw,exec", &host)));
  CHECK_FALSE(ok(check_bind("binds[0]", "/srv:/data:", &host)));
  CHECK_FALSE(ok(check_bind("binds[0]", "nocolon", &host)));
  CHECK(ok(check_abs_path("working_dir", "/app")));
  CHECK_FALSE(ok(check_abs_path("working_dir", "app")));
  CHECK_FALSE(ok(check_abs_path("working_dir", "/app/..")));
  CHECK(ok(check_user("user", "1000:1000")));
  CHECK(ok(check_user("user", "nobody")));
  CHECK_FALSE(ok(check_user("user", "a:b:c")));
  CHECK_FALSE(ok(check_user("user", "")));
  CHECK(ok(check_network_mode("network_mode", "none")));
  CHECK(ok(check_network_mode("network_mode", "container:web-1")));
  CHECK_FALSE(ok(check_network_mode("network_mode", "container:../x")));
  CHECK_FALSE(ok(check_network_mode("network_mode", "a/b")));
  CHECK(ok(check_restart_policy("restart_policy", "on-failure:3")));
  CHECK(ok(check_restart_policy("restart_policy", "unless-stopped")));
  CHECK_FALSE(ok(check_restart_policy("restart_policy", "on-failure:")));
  CHECK_FALSE(ok(check_restart_policy("restart_policy", "sometimes")));
  CHECK(ok(check_template_name("template", "redis-7")));
  CHECK_FALSE(ok(check_template_name("template", "../redis")));
  CHECK_FALSE(ok(check_template_name("template", "Redis")));
  CHECK(ok(check_request_id("id", "9f86d081884c7d659a2feaa0c55ad015")));
  CHECK_FALSE(ok(check_request_id("id", "a b")));
}

TEST_CASE("escaping leaves nothing that could change a path or a query") {
  CHECK(escape_component("local/busybox:latest") == "local%2Fbusybox%3Alatest");
  CHECK(escape_component("a?b#c d%e&f=g") == "a%3Fb%23c%20d%25e%26f%3Dg");
  CHECK(escape_component("../x") == "..%2Fx");
  CHECK(escape_component(std::string("\n\x7f\xc3\xa4", 4)) == "%0A%7F%C3%A4");
  CHECK(escape_component("AZaz09-._~") == "AZaz09-._~");
  CHECK(query_string().str().empty());
  CHECK(query_string().add_flag("all", true).add("filters", R"({"label":["a=b"]})").str() ==
        "?all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
}
