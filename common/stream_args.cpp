#include "common/stream_args.hpp"

#include "common/body_reader.hpp"

namespace dockmesh::common {
namespace {

using nlohmann::json;

// A stream id as the agent mints it: required, 1..128 characters.
void read_stream(body_reader& r, std::string& out) {
  r.str("stream", out, true, 128);
}

}  // namespace

result<follow_logs_args> parse_follow_logs_args(const json& body) {
  follow_logs_args a;
  body_reader r(body, follow_logs_args::fields);
  r.integer("credit", a.credit, min_stream_credit, max_stream_credit);
  if (r.failed()) return r.finish(a);
  json rest = body.is_object() ? body : json::object();
  rest.erase("credit");
  if (!rest.contains("tail")) rest["tail"] = 100;  // a follow starts from recent lines
  auto logs = parse_container_logs_args(rest);
  if (!logs) return logs.err();
  a.logs = *logs;
  return a;
}

result<follow_stats_args> parse_follow_stats_args(const json& body) {
  follow_stats_args a;
  body_reader r(body, follow_stats_args::fields);
  r.str("id", a.id, true, 128);
  r.integer("credit", a.credit, min_stream_credit, max_stream_credit);
  return r.finish(a);
}

result<exec_start_args> parse_exec_start_args(const json& body) {
  exec_start_args a;
  body_reader r(body, exec_start_args::fields);
  r.str("id", a.id, true, 128);
  r.get("cmd", true);
  r.str_list("cmd", a.cmd, 64, 4096);
  if (!r.failed() && a.cmd.empty()) r.fail("field 'cmd' must hold 1..64 words");
  r.boolean("tty", a.tty);
  r.integer("cols", a.cols, 0, 1000);
  r.integer("rows", a.rows, 0, 1000);
  r.integer("credit", a.credit, min_stream_credit, max_stream_credit);
  return r.finish(a);
}

result<stream_input_args> parse_stream_input_args(const json& body) {
  stream_input_args a;
  body_reader r(body, stream_input_args::fields);
  read_stream(r, a.stream);
  r.str("data", a.data, false, max_stream_piece);
  r.boolean("eof", a.eof);
  return r.finish(a);
}

result<stream_resize_args> parse_stream_resize_args(const json& body) {
  stream_resize_args a;
  body_reader r(body, stream_resize_args::fields);
  read_stream(r, a.stream);
  r.integer("cols", a.cols, 1, 1000);
  r.integer("rows", a.rows, 1, 1000);
  return r.finish(a);
}

result<stream_credit_args> parse_stream_credit_args(const json& body) {
  stream_credit_args a;
  body_reader r(body, stream_credit_args::fields);
  read_stream(r, a.stream);
  r.integer("credit", a.credit, 0, max_stream_credit);
  return r.finish(a);
}

result<stream_cancel_args> parse_stream_cancel_args(const json& body) {
  stream_cancel_args a;
  body_reader r(body, stream_cancel_args::fields);
  read_stream(r, a.stream);
  return r.finish(a);
}

json to_json(const follow_logs_args& a) {
  json j = to_json(a.logs);
  j["credit"] = a.credit;
  return j;
}
json to_json(const follow_stats_args& a) {
  return {{"id", a.id}, {"credit", a.credit}};
}
json to_json(const exec_start_args& a) {
  return {{"id", a.id},     {"cmd", a.cmd},   {"tty", a.tty},
          {"cols", a.cols}, {"rows", a.rows}, {"credit", a.credit}};
}
json to_json(const stream_input_args& a) {
  return {{"stream", a.stream}, {"data", a.data}, {"eof", a.eof}};
}
json to_json(const stream_resize_args& a) {
  return {{"stream", a.stream}, {"cols", a.cols}, {"rows", a.rows}};
}
json to_json(const stream_credit_args& a) {
  return {{"stream", a.stream}, {"credit", a.credit}};
}
json to_json(const stream_cancel_args& a) {
  return {{"stream", a.stream}};
}

}  // namespace dockmesh::common
