// recorded_docker: a docker_transport for unit tests that answers from Docker responses recorded
// on dockerd 20.10 (agent/testdata) and keeps every request it was sent, so tests can check
// what an action asked Docker for. Test-only; one thread.
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "agent/docker_transport.hpp"

namespace dockmesh::agent::testing {

inline std::string testdata(const std::string& name) {
  std::ifstream in(std::string(DOCKMESH_AGENT_TESTDATA) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class recorded_docker final : public docker_transport {
 public:
  struct rule {
    http_method method;
    std::string path_prefix;  // matched against the path (query included)
    int status;
    std::string body;
    common::errc error = common::errc::internal;  // used when status >= 400
  };

  std::vector<docker_request> requests;
  std::vector<rule> rules;  // first match wins; tests may push_front overrides

  recorded_docker() {
    using m = http_method;
    rules = {
        {m::get, "/_ping", 200, "OK"},
        {m::get, "/info", 200, testdata("info.json")},
        {m::get, "/version", 200, testdata("version.json")},
        {m::get, "/system/df", 200, testdata("system_df.json")},
        {m::get, "/containers/json", 200, testdata("containers_list.json")},
        {m::get,
         "/containers/075df898b122da4f881708551b3b25214295db31c201a7f3218d29b4e5e54841/stats", 200,
         testdata("container_stats.json")},
        {m::get, "/containers/nope/json", 404, "No such container: nope", common::errc::not_found},
        {m::get, "/containers/", 200, testdata("container_inspect.json")},  // .../json, owner alice
        {m::post, "/containers/create", 201, R"({"Id":"f00d","Warnings":[]})"},
        {m::post, "/containers/", 204, ""},
        {m::del, "/containers/", 204, ""},
        {m::get, "/images/json", 200, testdata("images_list.json")},
        {m::get, "/images/", 200,
         R"({"Id":"sha256:3c37","RepoDigests":["x@sha256:18"],"Size":3000000})"},
        {m::post, "/images/create", 200, testdata("pull_stream.jsonl")},
        {m::del, "/images/", 200, testdata("image_delete.json")},
    };
  }

  result<docker_response> call(const docker_request& r) override {
    requests.push_back(r);
    for (const auto& rule : rules)
      if (rule.method == r.method && r.path.rfind(rule.path_prefix, 0) == 0) {
        if (rule.status >= 400) return common::make_error(rule.error, rule.body);
        return docker_response{rule.status, rule.body};
      }
    return common::make_error(common::errc::not_found, "no recorded answer for " + r.path);
  }

  result<docker_response> stream(const docker_request& r, const chunk_sink& sink) override {
    if (r.path.find("/logs") != std::string::npos) {
      requests.push_back(r);
      std::string bytes = testdata("logs_multiplexed.bin");
      for (std::size_t i = 0; i < bytes.size(); i += 5)  // in uneven pieces, like a socket
        if (!sink(std::string_view(bytes).substr(i, 5))) break;
      return docker_response{200, ""};
    }
    auto whole = call(r);
    if (!whole) return whole;
    sink(whole->body);
    return docker_response{whole->status, ""};
  }

  std::size_t count(http_method m, const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& r : requests) n += r.method == m && r.path.rfind(prefix, 0) == 0;
    return n;
  }
};

}  // namespace dockmesh::agent::testing
