#include "agent/pull_progress.hpp"

#include "agent/docker_json.hpp"

namespace dockmesh::agent {
namespace {

using common::errc;
using nlohmann::json;

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string base64url(std::string_view in) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += table[(v >> s) & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

std::string image_name::reference() const {
  return repository + (tag.find(':') != std::string::npos ? "@" : ":") + tag;
}

image_name split_image_name(std::string_view ref) {
  if (auto at = ref.find('@'); at != std::string_view::npos)
    return {std::string(ref.substr(0, at)), std::string(ref.substr(at + 1))};
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
    return {std::string(ref.substr(0, colon)), std::string(ref.substr(colon + 1))};
  return {std::string(ref), "latest"};
}

std::string registry_auth_header(const common::registry_auth& auth) {
  return base64url(json{{"username", auth.username},
                        {"password", auth.password},
                        {"serveraddress", auth.server_address}}
                       .dump());
}

errc pull_error_code(std::string_view m) {
  if (contains(m, "not found") || contains(m, "manifest unknown") || contains(m, "does not exist"))
    return errc::not_found;
  if (contains(m, "unauthorized") || contains(m, "authentication required") ||
      contains(m, "denied"))
    return errc::unauthorized;
  if (contains(m, "connection refused") || contains(m, "no such host") || contains(m, "timeout") ||
      contains(m, "dial tcp") || contains(m, "i/o timeout"))
    return errc::unavailable;
  return errc::internal;
}

pull_progress::pull_progress(std::string request_id, std::string image, const progress_sink& sink,
                             std::chrono::milliseconds min_interval)
    : request_id_(std::move(request_id)),
      image_(std::move(image)),
      sink_(sink),
      min_interval_(min_interval) {}

bool pull_progress::feed(std::string_view bytes) {
  buffer_.append(bytes);
  std::size_t start = 0;
  for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n', start)) {
    line(std::string_view(buffer_).substr(start, nl - start));
    start = nl + 1;
  }
  buffer_.erase(0, start);
  if (buffer_.size() > 1024 * 1024) {
    failure_ = common::make_error(errc::internal, "Docker sent a pull progress line over 1 MiB");
    return false;
  }
  return true;
}

void pull_progress::line(std::string_view text) {
  if (text.find_first_not_of(" \r\t") == std::string_view::npos) return;
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return;
  if (j.contains("error")) {
    std::string m = j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
    if (m.empty()) m = "Docker reported a failed pull without a message";
    failure_ = common::make_error(pull_error_code(m), m);
    return;
  }
  std::string status = str_of(j, "status");
  std::string layer = str_of(j, "id");
  if (status.rfind("Status: ", 0) == 0 || status.rfind("Digest: ", 0) == 0) {
    if (status.rfind("Status: ", 0) == 0) last_status_ = status.substr(8);
  }
  auto now = std::chrono::steady_clock::now();
  auto& [last, when] = layers_[layer];
  bool changed = status != last;
  if (!changed && now - when < min_interval_) return;
  last = status;
  when = now;
  const json& detail = field_of(j, "progressDetail");
  json event = {{"request", request_id_}, {"image", image_}, {"status", status}, {"layer", layer}};
  if (field_of(detail, "current").is_number()) event["current"] = int_of(detail, "current");
  if (field_of(detail, "total").is_number()) event["total"] = int_of(detail, "total");
  ++sent_;
  if (sink_) sink_(event);
}

}  // namespace dockmesh::agent
