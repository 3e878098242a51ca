#include "common/stream_args.hpp"

namespace dockmesh::common {
namespace {

using nlohmann::json;

template <std::size_t N>
result<void> only_known(const json& body, const field_list<N>& fields) {
  if (body.is_null()) return {};
  if (!body.is_object()) return make_error(errc::invalid_argument, "the body must be an object");
  for (const auto& [key, _] : body.items()) {
    bool known = false;
    for (auto f : fields) known = known || f == key;
    if (!known) return make_error(errc::invalid_argument, "unknown field '" + key + "'");
  }
  return {};
}

result<std::int64_t> int_field(const json& body, const char* key, std::int64_t fallback,
                               std::int64_t min, std::int64_t max) {
  if (!body.is_object() || !body.contains(key)) return fallback;
  const json& v = body[key];
  if (!v.is_number_integer())
    return make_error(errc::invalid_argument,
                      std::string("field '") + key + "' must be an integer");
  auto n = v.get<std::int64_t>();
  if (n < min || n > max)
    return make_error(errc::invalid_argument, std::string("field '") + key + "' must be between " +
                                                  std::to_string(min) + " and " +
                                                  std::to_string(max));
  return n;
}

result<std::string> stream_field(const json& body) {
  if (!body.is_object() || !body.contains("stream"))
    return make_error(errc::invalid_argument, "field 'stream' is required");
  const json& v = body["stream"];
  if (!v.is_string() || v.get_ref<const std::string&>().empty() ||
      v.get_ref<const std::string&>().size() > 128)
    return make_error(errc::invalid_argument, "field 'stream' must be a stream id (1..128 chars)");
  return v.get<std::string>();
}

result<std::int64_t> credit_field(const json& body) {
  return int_field(body, "credit", default_stream_credit, min_stream_credit, max_stream_credit);
}

}  // namespace

result<follow_logs_args> parse_follow_logs_args(const json& body) {
  if (auto ok = only_known(body, follow_logs_args::fields); !ok) return ok.err();
  follow_logs_args a;
  auto credit = credit_field(body);
  if (!credit) return credit.err();
  a.credit = *credit;
  json rest = body.is_object() ? body : json::object();
  rest.erase("credit");
  if (!rest.contains("tail")) rest["tail"] = 100;  // a follow starts from recent lines
  auto logs = parse_container_logs_args(rest);
  if (!logs) return logs.err();
  a.logs = *logs;
  return a;
}

result<follow_stats_args> parse_follow_stats_args(const json& body) {
  if (auto ok = only_known(body, follow_stats_args::fields); !ok) return ok.err();
  follow_stats_args a;
  auto credit = credit_field(body);
  if (!credit) return credit.err();
  a.credit = *credit;
  json ref = body.is_object() ? body : json::object();
  ref.erase("credit");
  auto r = parse_container_ref_args(ref);
  if (!r) return r.err();
  a.id = r->id;
  return a;
}

result<exec_start_args> parse_exec_start_args(const json& body) {
  if (auto ok = only_known(body, exec_start_args::fields); !ok) return ok.err();
  exec_start_args a;
  auto ref = parse_container_ref_args(
      body.is_object() && body.contains("id") ? json{{"id", body["id"]}} : json::object());
  if (!ref) return ref.err();
  a.id = ref->id;
  const json* cmd = body.contains("cmd") ? &body["cmd"] : nullptr;
  if (!cmd || !cmd->is_array() || cmd->empty() || cmd->size() > 64)
    return make_error(errc::invalid_argument, "field 'cmd' must be a list of 1..64 words");
  for (const auto& w : *cmd) {
    if (!w.is_string() || w.get_ref<const std::string&>().size() > 4096)
      return make_error(errc::invalid_argument,
                        "field 'cmd' must hold words of at most 4096 chars");
    a.cmd.push_back(w.get<std::string>());
  }
  if (body.contains("tty")) {
    if (!body["tty"].is_boolean())
      return make_error(errc::invalid_argument, "field 'tty' must be true or false");
    a.tty = body["tty"].get<bool>();
  }
  auto cols = int_field(body, "cols", 0, 0, 1000);
  if (!cols) return cols.err();
  auto rows = int_field(body, "rows", 0, 0, 1000);
  if (!rows) return rows.err();
  auto credit = credit_field(body);
  if (!credit) return credit.err();
  a.cols = *cols;
  a.rows = *rows;
  a.credit = *credit;
  return a;
}

result<stream_input_args> parse_stream_input_args(const json& body) {
  if (auto ok = only_known(body, stream_input_args::fields); !ok) return ok.err();
  auto s = stream_field(body);
  if (!s) return s.err();
  stream_input_args a;
  a.stream = *s;
  if (body.contains("data")) {
    if (!body["data"].is_string() ||
        body["data"].get_ref<const std::string&>().size() > max_stream_piece)
      return make_error(errc::invalid_argument, "field 'data' must be text of at most 16384 bytes");
    a.data = body["data"].get<std::string>();
  }
  if (body.contains("eof")) {
    if (!body["eof"].is_boolean())
      return make_error(errc::invalid_argument, "field 'eof' must be true or false");
    a.eof = body["eof"].get<bool>();
  }
  return a;
}

result<stream_resize_args> parse_stream_resize_args(const json& body) {
  if (auto ok = only_known(body, stream_resize_args::fields); !ok) return ok.err();
  auto s = stream_field(body);
  if (!s) return s.err();
  stream_resize_args a;
  a.stream = *s;
  auto cols = int_field(body, "cols", 80, 1, 1000);
  if (!cols) return cols.err();
  auto rows = int_field(body, "rows", 24, 1, 1000);
  if (!rows) return rows.err();
  a.cols = *cols;
  a.rows = *rows;
  return a;
}

result<stream_credit_args> parse_stream_credit_args(const json& body) {
  if (auto ok = only_known(body, stream_credit_args::fields); !ok) return ok.err();
  stream_credit_args a;
  auto s = stream_field(body);
  if (!s) return s.err();
  a.stream = *s;
  auto credit = int_field(body, "credit", 0, 0, max_stream_credit);
  if (!credit) return credit.err();
  a.credit = *credit;
  return a;
}

result<stream_cancel_args> parse_stream_cancel_args(const json& body) {
  if (auto ok = only_known(body, stream_cancel_args::fields); !ok) return ok.err();
  auto s = stream_field(body);
  if (!s) return s.err();
  return stream_cancel_args{*s};
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
