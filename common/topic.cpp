#include "common/topic.hpp"

#include <array>

namespace dockmesh::common {
namespace {

struct kind_prefix {
  topic_kind kind;
  std::string_view prefix;
  bool named;
};

// The single table of topic shapes: a named topic is prefix + segment + '/'.
constexpr std::array<kind_prefix, 7> table{{
    {topic_kind::ann, "ann/", false},
    {topic_kind::req_any, "req/any/", false},
    {topic_kind::req_host, "req/host/", true},
    {topic_kind::req_all, "req/all/", false},
    {topic_kind::rep, "rep/", true},
    {topic_kind::evt_host, "evt/host/", true},
    {topic_kind::dir, "dir/", false},
}};

// At most `n` bytes of `s` for an error message, never cut inside a multi-byte UTF-8 character
// (a message that is not UTF-8 makes the reply carrying it undecodable).
std::string quote(std::string_view s, std::size_t n) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

const kind_prefix& entry(topic_kind k) {
  for (const auto& e : table)
    if (e.kind == k) return e;
  return table[0];
}

}  // namespace

bool valid_segment(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string topic::str() const {
  const auto& e = entry(kind);
  if (!e.named) return std::string(e.prefix);
  std::string s;
  s.reserve(e.prefix.size() + name.size() + 1);
  s.append(e.prefix).append(name).push_back('/');
  return s;
}

result<topic> make_topic(topic_kind kind, std::string_view name) {
  const auto& e = entry(kind);
  if (!e.named) {
    if (!name.empty()) return make_error(errc::invalid_argument, "this topic takes no name");
    return topic{kind, {}};
  }
  if (!valid_segment(name))
    return make_error(errc::invalid_argument, "invalid topic segment '" + quote(name, 64) + "'");
  return topic{kind, std::string(name)};
}

result<topic> parse_topic(std::string_view s) {
  for (const auto& e : table) {
    if (s.substr(0, e.prefix.size()) != e.prefix) continue;
    std::string_view rest = s.substr(e.prefix.size());
    if (!e.named) {
      // "req/host/" also starts with no unnamed prefix, so an exact match is required here.
      if (!rest.empty()) continue;
      return topic{e.kind, {}};
    }
    if (rest.size() < 2 || rest.back() != '/')
      return make_error(errc::malformed, "topic must end in '/': " + quote(s, 80));
    return make_topic(e.kind, rest.substr(0, rest.size() - 1));
  }
  return make_error(errc::malformed, "unknown topic: " + quote(s, 80));
}

std::string topic_ann() {
  return "ann/";
}
std::string topic_req_any() {
  return "req/any/";
}
std::string topic_req_all() {
  return "req/all/";
}
std::string topic_dir() {
  return "dir/";
}

static result<std::string> named(topic_kind k, std::string_view n) {
  auto t = make_topic(k, n);
  if (!t) return t.err();
  return t->str();
}
result<std::string> topic_req_host(std::string_view fqdn) {
  return named(topic_kind::req_host, fqdn);
}
result<std::string> topic_evt_host(std::string_view fqdn) {
  return named(topic_kind::evt_host, fqdn);
}
result<std::string> topic_rep(std::string_view client_id) {
  return named(topic_kind::rep, client_id);
}

}  // namespace dockmesh::common
