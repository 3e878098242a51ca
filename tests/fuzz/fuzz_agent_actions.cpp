// Fuzz target: one bus action through the agent end to end, as the worker runs it: argument
// parsing and validation, ownership checks, the endpoint allowlist, and the parsing of whatever
// dockerd answers (JSON documents, JSON-lines pull progress, multiplexed log streams, 304s and
// errors), against a scripted fake dockerd. Input: action selector, role selector, the request
// body (JSON text, NUL-terminated), then a script of replies: [status selector][2-byte length]
// [body] each.
// Properties: no crash and no exception (run_action turns one into "internal error in ..." and
// that is a bug: inputs must be checked before use); every path that reaches dockerd matches the
// action's allowlist and has no dot or empty segment; the reply and every progress record print
// as JSON (valid UTF-8, whatever bytes dockerd sent) and an error reply has a message.
#include <cstdint>
#include <string>
#include <vector>

#include "agent/action_dispatcher.hpp"
#include "agent/docker_client.hpp"
#include "agent/endpoint_allowlist.hpp"
#include "agent/template_store.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace dockmesh::agent;
using dockmesh::common::errc;
using dockmesh::common::make_error;

namespace {

struct scripted_reply {
  int status;
  std::string body;
};

// A dockerd that answers from the fuzz input, in order; when the script runs out it is "down".
class fake_docker final : public docker_transport {
 public:
  explicit fake_docker(std::vector<scripted_reply> script) : script_(std::move(script)) {}

  result<docker_response> call(const docker_request& r) override {
    auto next = take(r);
    if (!next.ok()) return next.err();
    return docker_response{next->status, next->body};
  }

  result<docker_response> stream(const docker_request& r, const chunk_sink& sink) override {
    auto next = take(r);
    if (!next.ok()) return next.err();
    // Deliver in uneven pieces, as a socket would.
    std::string_view body = next->body;
    std::size_t step = 1;
    while (!body.empty()) {
      std::size_t n = std::min(step, body.size());
      if (!sink(body.substr(0, n))) break;
      body.remove_prefix(n);
      step = step * 3 % 17 + 1;
    }
    return docker_response{next->status, ""};
  }

 private:
  result<scripted_reply> take(const docker_request& r) {
    check_path(r.path);
    if (pos_ >= script_.size()) return make_error(errc::unavailable, "dockerd is not answering");
    scripted_reply s = script_[pos_++];
    // Docker's error statuses arrive as errors, with the message docker_client makes of the body;
    // prefixed, so that Docker's text can never pass for the dispatcher's "internal error in".
    std::string msg =
        s.status >= 400 ? "dockerd: " + docker_error_message(s.body, s.status) : std::string();
    switch (s.status) {
      case 400:
        return make_error(errc::invalid_argument, msg);
      case 404:
        return make_error(errc::not_found, msg);
      case 409:
        return make_error(errc::conflict, msg);
      case 503:
        return make_error(errc::unavailable, msg);
      case 504:
        return make_error(errc::timeout, "dockerd did not answer in time");
      default:
        return s;
    }
  }

  static void check_path(const std::string& path) {
    std::string_view p = std::string_view(path).substr(0, path.find('?'));
    FUZZ_CHECK(!p.empty() && p[0] == '/', "docker path is not absolute: " + path);
    p.remove_prefix(1);
    while (!p.empty()) {
      auto slash = p.find('/');
      std::string_view seg = p.substr(0, slash);
      FUZZ_CHECK(!seg.empty() && seg != "." && seg != "..",
                 "docker path with a bad segment: " + path);
      if (slash == std::string_view::npos) break;
      p.remove_prefix(slash + 1);
    }
    for (unsigned char c : path)
      FUZZ_CHECK(c > 0x20 && c < 0x7f, "docker path with a raw control/space/non-ASCII byte");
  }

  std::vector<scripted_reply> script_;
  std::size_t pos_ = 0;
};

const template_store& templates() {
  static const template_store t = [] {
    template_store s;
    (void)s.add("web", {{"image", "local/busybox:latest"},
                        {"cmd", {"sleep", "60"}},
                        {"labels", {{"tier", "web"}}},
                        {"env", {"A=1"}}});
    return s;
  }();
  return t;
}

const int statuses[] = {200, 201, 204, 304, 400, 404, 409, 503, 504, 101};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dockmesh::fuzz::byte_reader in(data, size);
  auto table = action_table();
  action_request req;
  req.id = "0123456789abcdef0123456789abcdef";
  std::uint8_t which = in.byte();
  req.action = which < 240 ? std::string(table[which % table.size()].name) : "no-such-action";
  req.role = in.byte() % 2 ? "admin" : "user";
  req.user = "alice";
  req.body = nlohmann::json::parse(in.until_nul(), nullptr, false);
  if (req.body.is_discarded()) req.body = nullptr;
  std::vector<scripted_reply> script;
  while (!in.empty() && script.size() < 16) {
    int status = statuses[in.byte() % std::size(statuses)];
    script.push_back({status, std::string(in.sized())});
  }

  fake_docker docker(std::move(script));
  agent_identity self{"host1.mesh.test", {{"zone", "a"}}, "0.1.0", {}};
  progress_sink progress = [](const nlohmann::json& p) {
    std::string out;
    try {
      out = p.dump();
    } catch (const nlohmann::json::exception& ex) {
      FUZZ_CHECK(false, std::string("progress record is not printable: ") + ex.what());
    }
  };
  action_reply reply = run_action(req, docker, &templates(), self, progress);

  try {
    (void)reply.body.dump();
  } catch (const nlohmann::json::exception& ex) {
    FUZZ_CHECK(false, "reply body of " + req.action + " is not printable: " + ex.what());
  }
  if (reply.err) {
    FUZZ_CHECK(!reply.err->message.empty(), "error reply without a message");
    FUZZ_CHECK(dockmesh::fuzz::dumps_as_json(reply.err->message),
               "error message of " + req.action + " is not UTF-8");
    FUZZ_CHECK(reply.err->message.rfind("internal error in", 0) != 0,
               "handler threw: " + reply.err->message);
    FUZZ_CHECK(reply.code >= 400, "error reply with a success code");
  } else {
    FUZZ_CHECK(reply.code >= 200 && reply.code < 300,
               "success reply with code " + std::to_string(reply.code));
  }
  return 0;
}
