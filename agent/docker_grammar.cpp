#include "agent/docker_grammar.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace dockmesh::agent {
namespace {

using common::errc;

check_result bad(std::string_view field, std::string_view value, std::string_view why) {
  return common::make_error(errc::invalid_argument, "field '" + std::string(field) + "': '" +
                                                        excerpt(value) + "' " + std::string(why));
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}
bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

bool all_of(std::string_view v, bool (*pred)(char)) {
  return std::all_of(v.begin(), v.end(), pred);
}

bool name_char(char c) {
  return is_alnum(c) || c == '_' || c == '.' || c == '-';
}

// Docker's container name grammar, without the leading '/'.
bool docker_name(std::string_view v, std::size_t min_len) {
  return v.size() >= min_len && is_alnum(v[0]) && all_of(v, name_char);
}

// path-component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
bool path_component(std::string_view v) {
  if (v.empty() || !is_lower_alnum(v.front()) || !is_lower_alnum(v.back())) return false;
  for (std::size_t i = 0; i < v.size();) {
    if (is_lower_alnum(v[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < v.size() && !is_lower_alnum(v[j])) ++j;
    std::string_view sep = v.substr(i, j - i);
    bool dashes = all_of(sep, [](char c) { return c == '-'; });
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

// domain-component ('.' domain-component)* (':' port)?
bool registry_host(std::string_view v) {
  auto colon = v.find(':');
  if (colon != std::string_view::npos) {
    std::string_view port = v.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !all_of(port, [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    v = v.substr(0, colon);
  }
  while (!v.empty()) {
    auto dot = v.find('.');
    std::string_view comp = v.substr(0, dot);
    if (comp.empty() || !is_alnum(comp.front()) || !is_alnum(comp.back()) ||
        !all_of(comp, [](char c) { return is_alnum(c) || c == '-'; }))
      return false;
    if (dot == std::string_view::npos) break;
    v.remove_prefix(dot + 1);
    if (v.empty()) return false;
  }
  return true;
}

bool tag_ok(std::string_view t) {
  auto word = [](char c) { return is_alnum(c) || c == '_'; };
  return !t.empty() && t.size() <= 128 && word(t[0]) &&
         std::all_of(t.begin(), t.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

bool digest_ok(std::string_view d) {
  auto colon = d.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view algo = d.substr(0, colon), hex = d.substr(colon + 1);
  return all_of(
             algo,
             [](char c) { return is_alnum(c) || c == '+' || c == '.' || c == '_' || c == '-'; }) &&
         hex.size() >= 32 && hex.size() <= 128 && all_of(hex, is_hex);
}

constexpr std::array<std::string_view, 31> signal_names = {
    "HUP",  "INT",  "QUIT", "ILL",    "TRAP",   "ABRT",  "BUS",  "FPE",  "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM",   "STKFLT", "CHLD",  "CONT", "STOP", "TSTP", "TTIN", "TTOU",
    "URG",  "XCPU", "XFSZ", "VTALRM", "PROF",   "WINCH", "IO",   "PWR",  "SYS"};

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not valid there.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  std::uint32_t cp = c & (0x7f >> n);
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  static constexpr std::uint32_t min_for[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string to_valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t n = utf8_length(bytes, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string excerpt(std::string_view v) {
  // Cut at a character boundary: a quote must never end in half a UTF-8 sequence.
  std::size_t cut = std::min<std::size_t>(v.size(), 60);
  while (cut > 0 && cut < v.size() && (static_cast<unsigned char>(v[cut]) & 0xc0) == 0x80) --cut;
  std::string out;
  for (unsigned char c : v.substr(0, cut)) out += is_control(c) ? '?' : static_cast<char>(c);
  if (cut < v.size()) out += "...";
  return to_valid_utf8(out);
}

check_result check_container_ref(std::string_view field, std::string_view v) {
  std::string_view name = !v.empty() && v[0] == '/' ? v.substr(1) : v;
  if (v.size() > 128 || !docker_name(name, 1))
    return bad(field, v,
               "is not a container id or name (letters, digits, '_', '.', '-'; "
               "starting with a letter or digit; at most 128 characters)");
  return {};
}

check_result check_container_name(std::string_view field, std::string_view v) {
  if (v.size() > 120 || !docker_name(v, 2))
    return bad(field, v,
               "is not a valid container name ([a-zA-Z0-9][a-zA-Z0-9_.-]+, "
               "2..120 characters)");
  return {};
}

check_result check_image_ref(std::string_view field, std::string_view v) {
  const char* why = "is not an image reference ([registry/]name[:tag][@digest], lower case)";
  if (v.empty() || v.size() > 255) return bad(field, v, why);
  std::string_view name = v;
  if (auto at = name.find('@'); at != std::string_view::npos) {
    if (!digest_ok(name.substr(at + 1))) return bad(field, v, why);
    name = name.substr(0, at);
  }
  auto slash = name.rfind('/');
  auto colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    if (!tag_ok(name.substr(colon + 1))) return bad(field, v, why);
    name = name.substr(0, colon);
  }
  auto first = name.find('/');
  if (first != std::string_view::npos) {
    std::string_view head = name.substr(0, first);
    bool is_host =
        head.find_first_of(".:") != std::string_view::npos || head == "localhost" ||
        std::any_of(head.begin(), head.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (is_host) {
      if (!registry_host(head)) return bad(field, v, why);
      name.remove_prefix(first + 1);
    }
  }
  while (true) {
    auto s = name.find('/');
    if (!path_component(name.substr(0, s))) return bad(field, v, why);
    if (s == std::string_view::npos) break;
    name.remove_prefix(s + 1);
  }
  return {};
}

check_result check_label_key(std::string_view field, std::string_view v) {
  auto inner = [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '/' || c == '-'; };
  if (v.empty() || v.size() > 128 || !is_alnum(v.front()) || !is_alnum(v.back()) ||
      !std::all_of(v.begin(), v.end(), inner))
    return bad(field, v,
               "is not a valid label key ([A-Za-z0-9] then [A-Za-z0-9._/-], ending in a "
               "letter or digit; at most 128 characters)");
  return {};
}

check_result check_label_value(std::string_view field, std::string_view v) {
  if (v.size() > 4096 ||
      std::any_of(v.begin(), v.end(), [](unsigned char c) { return is_control(c); }))
    return bad(field, v, "is not a valid label value (no control characters; at most 4096 bytes)");
  return {};
}

check_result check_env_entry(std::string_view field, std::string_view v) {
  auto eq = v.find('=');
  std::string_view name = v.substr(0, eq);
  bool name_ok = !name.empty() &&
                 (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
                 all_of(name, [](char c) { return is_alnum(c) || c == '_'; });
  std::string_view value = eq == std::string_view::npos ? std::string_view() : v.substr(eq + 1);
  bool value_ok = std::none_of(value.begin(), value.end(),
                               [](unsigned char c) { return is_control(c) && c != '\t'; });
  if (eq == std::string_view::npos || !name_ok || !value_ok || v.size() > 32768)
    return bad(field, v,
               "is not NAME=value (NAME [A-Za-z_][A-Za-z0-9_]*, no control characters "
               "in the value, at most 32 KiB)");
  return {};
}

common::result<std::string> normalize_signal(std::string_view field, std::string_view v) {
  int number = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), number);
  if (!v.empty() && ec == std::errc() && ptr == v.data() + v.size()) {
    if (number >= 1 && number <= 64) return std::to_string(number);
  } else if (v.size() <= 10) {
    std::string up;
    for (char c : v) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string_view bare = up.rfind("SIG", 0) == 0 ? std::string_view(up).substr(3) : up;
    if (std::find(signal_names.begin(), signal_names.end(), bare) != signal_names.end())
      return "SIG" + std::string(bare);
  }
  return bad(field, v, "is not a signal (a name such as SIGTERM or TERM, or a number 1..64)").err();
}

check_result check_request_id(std::string_view field, std::string_view v) {
  if (v.empty() || v.size() > 128 || !all_of(v, [](char c) {
        return is_alnum(c) || c == '_' || c == '.' || c == ':' || c == '-';
      }))
    return bad(field, v, "is not a valid request id ([A-Za-z0-9_.:-], 1..128 characters)");
  return {};
}

check_result check_abs_path(std::string_view field, std::string_view v) {
  bool dotdot = v == ".." || v.find("/../") != std::string_view::npos ||
                (v.size() >= 3 && v.substr(v.size() - 3) == "/..");
  if (v.empty() || v[0] != '/' || v.size() > 4096 || dotdot ||
      std::any_of(v.begin(), v.end(), [](unsigned char c) { return is_control(c); }))
    return bad(field, v, "is not an absolute path without '..' or control characters");
  return {};
}

check_result check_bind(std::string_view field, std::string_view v, bool* host_path) {
  auto c1 = v.find(':');
  if (c1 == std::string_view::npos) return bad(field, v, "is not src:dst[:options]");
  std::string_view src = v.substr(0, c1), rest = v.substr(c1 + 1);
  auto c2 = rest.find(':');
  std::string_view dst = rest.substr(0, c2);
  std::string_view opts = c2 == std::string_view::npos ? std::string_view() : rest.substr(c2 + 1);
  *host_path = !src.empty() && src[0] == '/';
  if (*host_path ? !check_abs_path(field, src).ok() : !docker_name(src, 2))
    return bad(field, v, "has a source that is neither an absolute path nor a volume name");
  if (!check_abs_path(field, dst))
    return bad(field, v, "has a target that is not an absolute path");
  static constexpr std::array<std::string_view, 14> known = {
      "ro",     "rw",      "z",     "Z",      "nocopy",     "private", "rprivate",
      "shared", "rshared", "slave", "rslave", "consistent", "cached",  "delegated"};
  while (c2 != std::string_view::npos && !opts.empty()) {
    auto comma = opts.find(',');
    if (std::find(known.begin(), known.end(), opts.substr(0, comma)) == known.end())
      return bad(field, v, "has an unknown bind option");
    if (comma == std::string_view::npos) break;
    opts.remove_prefix(comma + 1);
  }
  if (c2 != std::string_view::npos && opts.empty()) return bad(field, v, "has empty options");
  return {};
}

check_result check_user(std::string_view field, std::string_view v) {
  auto colon = v.find(':');
  std::string_view user = v.substr(0, colon);
  std::string_view group = colon == std::string_view::npos ? "x" : v.substr(colon + 1);
  auto part = [](std::string_view p) {
    return !p.empty() && p.size() <= 64 && all_of(p, name_char);
  };
  if (!part(user) || !part(group))
    return bad(field, v, "is not user[:group] ([A-Za-z0-9_.-]{1,64})");
  return {};
}

check_result check_network_mode(std::string_view field, std::string_view v) {
  if (v.rfind("container:", 0) == 0) return check_container_ref(field, v.substr(10));
  if (v.size() > 64 || !docker_name(v, 1))
    return bad(field, v,
               "is not a network mode (none, host, bridge, container:<id>, or a network name)");
  return {};
}

check_result check_restart_policy(std::string_view field, std::string_view v) {
  if (v == "no" || v == "always" || v == "unless-stopped" || v == "on-failure") return {};
  if (v.rfind("on-failure:", 0) == 0) {
    std::string_view n = v.substr(11);
    if (!n.empty() && n.size() <= 4 && all_of(n, [](char c) { return c >= '0' && c <= '9'; }))
      return {};
  }
  return bad(field, v, "is not a restart policy (no, always, unless-stopped, on-failure[:N])");
}

check_result check_template_name(std::string_view field, std::string_view v) {
  if (v.empty() || v.size() > 64 || !is_lower_alnum(v[0]) ||
      !all_of(v, [](char c) { return is_lower_alnum(c) || c == '_' || c == '.' || c == '-'; }))
    return bad(field, v, "is not a template name ([a-z0-9][a-z0-9_.-]*, at most 64 characters)");
  return {};
}

check_result check_argument(std::string_view field, std::string_view v) {
  if (v.size() > 32768 || v.find('\0') != std::string_view::npos)
    return bad(field, v, "is not a valid argument (no NUL byte, at most 32 KiB)");
  return {};
}

std::string escape_component(std::string_view v) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(v.size());
  for (unsigned char c : v) {
    if (is_alnum(static_cast<char>(c)) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

query_string& query_string::add(std::string_view key, std::string_view value) {
  items_.emplace_back(std::string(key), std::string(value));
  return *this;
}

std::string query_string::str() const {
  std::string out;
  // Appended piece by piece: `"&" + std::string` makes GCC 12 at -O3 warn -Wrestrict (a false
  // positive inside std::string's insert).
  for (const auto& [k, v] : items_) {
    out += out.empty() ? '?' : '&';
    out += escape_component(k);
    out += '=';
    out += escape_component(v);
  }
  return out;
}

}  // namespace dockmesh::agent
