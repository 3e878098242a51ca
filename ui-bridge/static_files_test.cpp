#include "ui-bridge/static_files.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "ui-bridge/test_support.hpp"

using namespace dockmesh::bridge;

TEST_CASE("files load from a directory, / is index.html, traversal finds nothing") {
  test::temp_dir dir;
  std::filesystem::create_directories(dir.path + "/web/css");
  std::ofstream(dir.path + "/web/index.html") << "<html></html>";
  std::ofstream(dir.path + "/web/css/app.css") << "body{}";
  std::ofstream(dir.path + "/secret.txt") << "secret";
  auto files = static_files::load_dir(dir.path + "/web");
  CHECK(files.size() == 2);
  REQUIRE(files.find("/"));
  CHECK(files.find("/")->content == "<html></html>");
  CHECK(files.find("/")->mime == "text/html; charset=utf-8");
  REQUIRE(files.find("/css/app.css"));
  CHECK(files.find("/css/app.css")->mime == "text/css; charset=utf-8");
  for (auto p : {"/../secret.txt", "/css/../../secret.txt", "/%2e%2e/secret.txt", "/nope.js"})
    CHECK(files.find(p) == nullptr);
  CHECK_THROWS(static_files::load_dir(dir.path + "/missing"));
}

TEST_CASE("the built-in web UI is present and complete") {
  auto files = static_files::load_dir(DOCKMESH_WEB_SOURCE_DIR);
  for (auto p : {"/", "/app.css", "/js/main.js", "/js/live_link.js", "/js/schema_form.js",
                 "/js/views/containers.js", "/js/views/create.js"}) {
    CAPTURE(p);
    CHECK(files.find(p) != nullptr);
  }
  CHECK(files.find("/js/main.js")->mime.rfind("text/javascript", 0) == 0);  // a module needs it
}

TEST_CASE("the console as built carries xterm.js, loadable under the CSP") {
  auto files = static_files::load_dir(DOCKMESH_WEB_BUILD_DIR);
  for (auto p : {"/index.html", "/js/views/terminal.js", "/vendor/xterm.js", "/vendor/xterm.css"}) {
    CAPTURE(p);
    REQUIRE(files.find(p) != nullptr);
  }
  const auto& bundle = files.find("/vendor/xterm.js")->content;
  CHECK(bundle.find("export const Terminal") != std::string::npos);
  CHECK(bundle.find("Permission is hereby granted") != std::string::npos);  // the licence travels
  // The CSP (default-src 'self') allows neither eval nor new Function.
  CHECK(bundle.find("eval(") == std::string::npos);
  CHECK(bundle.find("new Function") == std::string::npos);
}
