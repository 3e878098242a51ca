#include "agent/stream_table.hpp"

#include <algorithm>

#include "agent/action_dispatcher.hpp"
#include "agent/stream_channel.hpp"
#include "common/log.hpp"
#include "common/stream_args.hpp"

namespace dockmesh::agent {
namespace {

std::int64_t opening_credit(const nlohmann::json& body) {
  // The handler checks the field properly; here only a sane number starts the gate.
  if (body.is_object() && body.contains("credit") && body["credit"].is_number_integer()) {
    auto c = body["credit"].get<std::int64_t>();
    return std::clamp(c, common::min_stream_credit, common::max_stream_credit);
  }
  return common::default_stream_credit;
}

}  // namespace

stream_table::stream_table(zmq::context_t& ctx, stream_table_options options)
    : ctx_(ctx), options_(std::move(options)) {}

stream_table::~stream_table() {
  cancel_all("the agent is stopping");
  for (auto& [_, e] : streams_)
    if (e.thread.joinable()) e.thread.join();
}

bool stream_table::open(const common::envelope& request, std::string opener,
                        clock::time_point now) {
  if (streams_.size() >= options_.max_streams || streams_.count(request.id)) return false;
  auto gate = std::make_shared<stream_gate>(opening_credit(request.body));
  entry e{request.reply_to, std::move(opener), gate, now, {}};
  e.thread = std::thread([this, request, gate] { run(request, gate); });
  streams_.emplace(request.id, std::move(e));
  return true;
}

void stream_table::run(common::envelope request, std::shared_ptr<stream_gate> gate) {
  docker_client_options docker = options_.docker;
  docker.cancel = gate->cancel_flag();
  inbox_sender inbox(ctx_, options_.inbox_endpoint);
  stream_channel channel(request, options_.self.fqdn, gate, inbox);
  action_request req{request.id,   request.action, request.user,
                     request.role, request.body,   request.attempt};
  action_reply r;
  try {
    docker_client client(docker);
    channel.set_docker(docker.socket_path, &client.api_version());
    progress_sink none = [](const nlohmann::json&) {};
    r = run_action(req, client, nullptr, options_.self, none, &channel);
  } catch (const std::exception& ex) {  // libcurl could not start: an answer all the same
    r = error_reply({common::errc::unavailable, ex.what()});
  }
  channel.finish(r);
}

bool stream_table::credit(std::string_view stream, std::int64_t bytes, std::string_view sender,
                          clock::time_point now) {
  auto it = streams_.find(std::string(stream));
  if (it == streams_.end() || it->second.opener != sender) return false;
  it->second.renewed = now;
  if (bytes > 0) it->second.gate->grant(bytes);
  return true;
}

stream_gate* stream_table::opened_by(std::string_view stream, std::string_view sender) {
  auto it = streams_.find(std::string(stream));
  return it == streams_.end() || it->second.opener != sender ? nullptr : it->second.gate.get();
}

bool stream_table::input(std::string_view stream, std::string_view sender, std::string_view bytes,
                         bool eof) {
  auto* g = opened_by(stream, sender);
  return g && g->push_input(bytes, eof);
}

bool stream_table::resize(std::string_view stream, std::string_view sender, int cols, int rows) {
  auto* g = opened_by(stream, sender);
  if (g) g->push_resize(cols, rows);
  return g != nullptr;
}

bool stream_table::cancel(std::string_view stream, std::string_view sender) {
  auto it = streams_.find(std::string(stream));
  if (it == streams_.end() || it->second.opener != sender) return false;
  it->second.gate->cancel("cancelled");
  return true;
}

void stream_table::expire(clock::time_point now) {
  for (auto& [id, e] : streams_)
    if (now - e.renewed > options_.lease && !e.gate->cancelled()) {
      DM_LOG(info) << "stream " << id << ": the reader's lease expired";
      e.gate->cancel("lease expired");
    }
}

void stream_table::closed(const std::string& stream) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  if (it->second.thread.joinable()) it->second.thread.join();
  streams_.erase(it);
}

void stream_table::cancel_all(const std::string& reason) {
  for (auto& [_, e] : streams_) e.gate->cancel(reason);
}

const std::string* stream_table::reply_topic(const std::string& stream) const {
  auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : &it->second.reply_to;
}

}  // namespace dockmesh::agent
