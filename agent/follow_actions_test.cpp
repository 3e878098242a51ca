// The stream handlers over recorded Docker answers: what a follow sends through the inbox (the
// opening reply, stream-data within the credit, stream-end carrying the final code), what a
// refusal sends (one error reply, no stream), and exec's per-host switch.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/action_dispatcher.hpp"
#include "agent/agent_inbox.hpp"
#include "agent/recorded_docker.hpp"
#include "agent/stream_channel.hpp"

using namespace dockmesh;
using namespace dockmesh::agent;
using nlohmann::json;

namespace {

struct run_result {
  std::vector<inbox_message> inbox;
  std::vector<common::envelope> frames;  // decoded stream frames and replies, in order
  testing::recorded_docker docker;
};

void run_stream(run_result& out, const std::string& action, json body, const std::string& user,
                const std::string& role, bool allow_exec = false) {
  zmq::context_t ctx;
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  pull.bind("inproc://follow-test");
  inbox_sender inbox(ctx, "inproc://follow-test");
  common::envelope req;
  req.id = "s1";
  req.action = action;
  req.user = user;
  req.role = role;
  req.reply_to = "rep/ctl-x/";
  req.body = std::move(body);
  auto gate = std::make_shared<stream_gate>(1 << 20);
  stream_channel channel(req, "host1.mesh.test", gate, inbox);
  agent_identity self{"host1.mesh.test", {}, "0.1.0", {}, allow_exec};
  action_request ar{req.id, req.action, req.user, req.role, req.body, 0};
  progress_sink none = [](const json&) {};
  channel.finish(run_action(ar, out.docker, nullptr, self, none, &channel));
  while (auto m = read_inbox(pull)) {
    if (m->kind != inbox_kind::stream_closed) out.frames.push_back(*common::decode(m->payload));
    out.inbox.push_back(std::move(*m));
  }
}

}  // namespace

TEST_CASE("follow-logs: opening reply, the output as stream-data, then stream-end") {
  run_result r;
  run_stream(r, "follow-logs", {{"id", "web"}, {"tail", 10}}, "admin", "admin");
  REQUIRE(r.frames.size() >= 3);
  CHECK(r.inbox.front().kind == inbox_kind::reply);
  CHECK(r.frames.front().code == 200);
  CHECK(r.frames.front().body["stream"] == "s1");
  CHECK(r.frames.front().body["host"] == "host1.mesh.test");
  std::string out, err;
  std::int64_t seq = 0;
  for (std::size_t i = 1; i + 1 < r.frames.size(); ++i) {
    const auto& f = r.frames[i];
    REQUIRE(f.action == "stream-data");
    CHECK(f.body["seq"] == ++seq);
    (f.body["channel"] == "stderr" ? err : out) += f.body["data"].get<std::string>();
  }
  CHECK(out == "out-line-1\n");
  CHECK(err == "err-line-1\n");
  const auto& end = r.frames.back();
  CHECK(end.action == "stream-end");
  CHECK(end.re == "s1");  // the broker's audit log closes sessions on it
  CHECK(end.code == 200);
  CHECK(end.body["reason"] == "eof");
  CHECK(r.inbox.back().kind == inbox_kind::stream_closed);
  CHECK(r.docker.requests.back().path.find("follow=1") != std::string::npos);
}

TEST_CASE("follow-logs of another user's container: one 404 reply, no stream") {
  run_result r;
  run_stream(r, "follow-logs", {{"id", "web"}}, "u0123456789abcdef0123456789abcdef", "user");
  REQUIRE(r.frames.size() == 1);
  CHECK(r.frames[0].code == 404);
  CHECK(r.inbox.back().kind == inbox_kind::stream_closed);
}

TEST_CASE("exec-start is refused by a host without --allow-exec, before Docker is asked") {
  run_result r;
  run_stream(r, "exec-start", {{"id", "web"}, {"cmd", {"sh"}}}, "admin", "admin");
  REQUIRE(r.frames.size() == 1);
  CHECK(r.frames[0].code == 403);
  CHECK(r.frames[0].err->message.find("--allow-exec") != std::string::npos);
  CHECK(r.docker.requests.empty());
}

TEST_CASE("exec-start checks its arguments and the container's state") {
  run_result bad;
  run_stream(bad, "exec-start", {{"id", "web"}, {"cmd", json::array()}}, "admin", "admin", true);
  REQUIRE(bad.frames.size() == 1);
  CHECK(bad.frames[0].code == 400);
  CHECK(bad.frames[0].err->message.find("cmd") != std::string::npos);
}
