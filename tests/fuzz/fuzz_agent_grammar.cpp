// Fuzz target: the agent's argument validation (agent/docker_grammar.hpp), the gate between a
// request's fields and Docker's API paths and queries. Input: a selector byte choosing the check,
// then the value. Properties: no check crashes; refusing a UTF-8 value gives a UTF-8 message (it
// travels back in an error reply, whose decoder refuses anything else) and names the field;
// whatever a path-bound check accepts cannot change a request's shape (no '/', '?', '#', '%', "..",
// control characters), and escape_component/query_string always produce only URL-safe characters.
#include <cstdint>
#include <string>

#include "agent/docker_grammar.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace dockmesh::agent;

namespace {

bool url_safe(std::string_view s, std::string_view extra) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '%' ||
              extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool has_control(std::string_view v) {
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

void check_refusal(std::string_view v, const dockmesh::common::error& e) {
  FUZZ_CHECK(e.code == dockmesh::common::errc::invalid_argument, "refusal is not invalid_argument");
  FUZZ_CHECK(e.message.find("field 'f'") != std::string::npos, "refusal does not name the field");
  FUZZ_CHECK(dockmesh::fuzz::quote_keeps_utf8(v, e.message),
             "refusal of a UTF-8 value is not valid UTF-8: " + e.message);
}

// Values that end up as one segment of a Docker API path.
void check_path_safe(std::string_view v) {
  std::string_view name = !v.empty() && v[0] == '/' ? v.substr(1) : v;
  FUZZ_CHECK(name.find_first_of("/?#%\\ ") == std::string_view::npos,
             "path-bound value has a separator");
  FUZZ_CHECK(name != "." && name != "..", "path-bound value is a dot segment");
  FUZZ_CHECK(!has_control(v), "path-bound value has a control character");
}

// An image reference goes into /images/<ref>/json and into query values: '/' separates its path
// components, but none of them may be a dot segment, and nothing may start a query or fragment.
void check_image_safe(std::string_view v) {
  FUZZ_CHECK(v.find_first_of("?#%\\ ") == std::string_view::npos && !has_control(v),
             "accepted image ref has a separator");
  std::string_view rest = v.substr(0, v.find('@'));
  while (true) {
    auto slash = rest.find('/');
    std::string_view comp = rest.substr(0, slash);
    FUZZ_CHECK(comp != "." && comp != ".." && !comp.empty(),
               "accepted image ref has a dot segment");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dockmesh::fuzz::byte_reader in(data, size);
  std::uint8_t which = in.byte();
  std::string_view v = in.rest();
  check_result r;
  switch (which % 16) {
    case 0:
      r = check_container_ref("f", v);
      if (r) check_path_safe(v);
      break;
    case 1:
      r = check_container_name("f", v);
      if (r) check_path_safe(v);
      break;
    case 2:
      r = check_image_ref("f", v);
      if (r) check_image_safe(v);
      break;
    case 3:
      r = check_label_key("f", v);
      break;
    case 4:
      r = check_label_value("f", v);
      if (r) FUZZ_CHECK(!has_control(v), "control char");
      break;
    case 5:
      r = check_env_entry("f", v);
      break;
    case 6: {
      auto s = normalize_signal("f", v);
      if (!s)
        check_refusal(v, s.err());
      else
        FUZZ_CHECK(url_safe(*s, ""), "normalised signal is not a plain word");
      return 0;
    }
    case 7:
      // A request id becomes a label value (a query filter), never a path segment.
      r = check_request_id("f", v);
      if (r)
        FUZZ_CHECK(v.find_first_of("/?#%&= ") == std::string_view::npos && !has_control(v),
                   "accepted request id has a separator");
      break;
    case 8:
      r = check_abs_path("f", v);
      if (r) FUZZ_CHECK(v.find("/../") == std::string_view::npos && !has_control(v), "'..' passed");
      break;
    case 9: {
      bool host_path = false;
      r = check_bind("f", v, &host_path);
      if (r && !host_path) FUZZ_CHECK(v[0] != '/', "host path bind not reported as one");
      break;
    }
    case 10:
      r = check_user("f", v);
      break;
    case 11:
      r = check_network_mode("f", v);
      break;
    case 12:
      r = check_restart_policy("f", v);
      break;
    case 13:
      r = check_template_name("f", v);
      if (r) check_path_safe(v);
      break;
    case 14:
      r = check_argument("f", v);
      break;
    default: {
      std::string e = escape_component(v);
      FUZZ_CHECK(url_safe(e, ""), "escape_component left an unsafe character");
      query_string q;
      q.add("k", v).add(v, std::string_view("1"));
      FUZZ_CHECK(url_safe(q.str(), "?=&"), "query_string left an unsafe character");
      FUZZ_CHECK(dockmesh::fuzz::quote_keeps_utf8(v, excerpt(v)),
                 "excerpt of valid UTF-8 is not valid UTF-8");
      return 0;
    }
  }
  if (!r) check_refusal(v, r.err());
  return 0;
}
