#include "cli/command_line.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

namespace dockmesh::cli {
namespace {

namespace po = boost::program_options;
using common::errc;
using common::make_error;

struct option_spec {
  std::string_view name;
  bool takes_value;
  char short_name = 0;  // "-f" for --follow; only flags have one
};

struct command_spec {
  std::string_view name;
  std::vector<option_spec> options;
  std::size_t min_words;
  std::size_t max_words;
  std::string_view usage;
  std::size_t words_then_literal = 0;  // after this many words, every token is a word (exec)
};

// The single table of commands: names, options, how many words, and the usage line.
const std::vector<command_spec>& command_table() {
  static const std::vector<command_spec> table{
      {"keygen",
       {{"out", true}, {"force", false}, {"group", true}},
       0,
       0,
       "keygen --out FILE [--force] [--group G]  write a CURVE key file (0600; 0640 of group G\n"
       "                                  with --group, for a daemon of that group), print its "
       "public key"},
      {"hosts",
       {{"status", true}, {"label", true}, {"batch", true}, {"deadline", true}, {"all", false}},
       0,
       3,
       "hosts [--status S] [--label k=v]  hosts in the broker's directory; admins also:\n"
       "                                  hosts pool FQDN USER_ID|team:NAME|shared | "
       "cordon|uncordon "
       "FQDN |\n"
       "                                  drain FQDN [--batch N] [--deadline S] [--all] | undrain "
       "FQDN | policies"},
      {"quota",
       {{"containers", true}, {"memory", true}},
       1,
       2,
       "quota list [USER_ID] | set USER_ID [--containers N] [--memory BYTES]  per-user quotas"},
      {"teams",
       {},
       1,
       1002,
       "teams list | set NAME USER_ID... | delete NAME  teams of users that may own host pools"},
      {"containers",
       {{"host", true}, {"owner", true}},
       0,
       0,
       "containers [--host F] [--owner U] containers in the broker's directory"},
      {"send",
       {{"host", true}, {"all", false}},
       1,
       1,
       "send [--host FQDN] [--all] JSON   send one message ('-' reads it from stdin)"},
      {"watch",
       {{"count", true}},
       0,
       1,
       "watch [PREFIX] [--count N]        print bus messages as JSON lines until Ctrl-C"},
      {"logs",
       {{"follow", false, 'f'}, {"tail", true}},
       1,
       1,
       "logs CONTAINER [-f|--follow] [--tail N]  a container's output; -f follows it until Ctrl-C"},
      {"exec",
       {{"interactive", false, 'i'}, {"tty", false, 't'}},
       2,
       65,
       "exec [-i] [-t] CONTAINER CMD...   run CMD in the container (-i: stdin, -t: a terminal)",
       1},
      {"stats",
       {{"count", true}},
       1,
       1,
       "stats CONTAINER [--count N]       live usage, one JSON line a second, until Ctrl-C"},
      {"audit",
       {{"since", true}, {"user", true}, {"limit", true}},
       0,
       0,
       "audit [--since T] [--user U] [--limit N] state-changing requests, newest first (admin)"},
      {"keys",
       {{"ttl", true}, {"role", true}, {"name", true}},
       1,
       2,
       "keys list | accept KEY [--role R] [--name N] | reject|revoke KEY | token create --ttl S"},
      {"projects",
       {{"for", true}},
       0,
       2,
       "projects [list] | create NAME | delete ID|NAME [--for USER_ID]  projects (admin: all)"},
      {"services",
       {{"for", true}, {"project", true}, {"image", true}, {"replicas", true}, {"spec", true}},
       1,
       3,
       "services list [--project P] | get S | create PROJECT NAME --image I [--replicas N]\n"
       "                                  [--spec JSON] | update S --spec JSON | scale S N | "
       "delete S"},
      {"status",
       {},
       0,
       0,
       "status                            every broker: reachable, leader, epoch, etcd health"},
      {"catalogue",
       {},
       0,
       0,
       "catalogue                         every message of the protocol, as JSON (no bus needed)"},
  };
  return table;
}

const command_spec* find_command(std::string_view name) {
  for (const auto& c : command_table())
    if (c.name == name) return &c;
  return nullptr;
}

// Options that parse_config adds to every binary's table.
const std::set<std::string, std::less<>> common_value_options{"config", "log-level"};
const std::set<std::string, std::less<>> common_flag_options{"help", "print-config"};

// For a global option `name`: nullopt if unknown, else whether it takes a value.
std::optional<bool> global_takes_value(const po::options_description& globals,
                                       const std::string& name) {
  if (common_value_options.count(name)) return true;
  if (common_flag_options.count(name)) return false;
  const auto* d = globals.find_nothrow(name, false);
  if (!d) return std::nullopt;
  return d->semantic()->max_tokens() > 0;
}

std::string option_name(const std::string& token) {
  auto eq = token.find('=');
  return token.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
}

const option_spec* find_option(const command_spec& c, std::string_view name) {
  for (const auto& o : c.options)
    if (o.name == name) return &o;
  return nullptr;
}

common::result<void> check_words(const command_spec& spec, const command_line& cl) {
  if (cl.words.size() < spec.min_words || cl.words.size() > spec.max_words)
    return make_error(errc::invalid_argument, "usage: dockmeshctl " + std::string(spec.usage));
  if (spec.name != "keys") return {};
  const std::string& verb = cl.words[0];
  bool one_key = verb == "accept" || verb == "reject" || verb == "revoke";
  bool ok = (verb == "list" && cl.words.size() == 1) || (one_key && cl.words.size() == 2) ||
            (verb == "token" && cl.words.size() == 2 && cl.words[1] == "create");
  if (!ok)
    return make_error(errc::invalid_argument, "usage: dockmeshctl " + std::string(spec.usage));
  if ((cl.has("role") || cl.has("name")) && verb != "accept")
    return make_error(errc::invalid_argument, "--role and --name go with keys accept");
  if (verb == "token" && !cl.has("ttl"))
    return make_error(errc::invalid_argument, "keys token create needs --ttl SECONDS");
  return {};
}

}  // namespace

std::string command_line::value(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() || it->second.empty() ? fallback : it->second.back();
}

std::string commands_usage() {
  std::string s = "Commands:\n";
  for (const auto& c : command_table()) s += "  " + std::string(c.usage) + "\n";
  return s;
}

namespace {

// Walks argv once: global options go to global_args, the first word names the command, later
// words and the command's own options go to the command.
class argv_splitter {
 public:
  argv_splitter(const std::vector<std::string>& args, const po::options_description& globals)
      : args_(args), globals_(globals) {
    cl_.global_args.push_back(args.empty() ? "dockmeshctl" : args[0]);
  }

  common::result<command_line> run() {
    for (i_ = 1; i_ < args_.size(); ++i_) {
      const std::string& t = args_[i_];
      if (!words_only_ && t == "--") {
        words_only_ = true;
        continue;
      }
      bool is_long = !words_only_ && t.size() > 2 && t.rfind("--", 0) == 0;
      auto r = is_long ? take_option(t) : take_word(t);
      if (!r) return r.err();
    }
    if (spec_) {
      auto ok = check_words(*spec_, cl_);
      if (!ok) return ok.err();
    }
    return std::move(cl_);
  }

 private:
  common::result<void> take_word(const std::string& t) {
    if (!spec_ && !words_only_ && t.size() >= 2 && t[0] == '-') {  // short global, e.g. -h
      cl_.global_args.push_back(t);
      return {};
    }
    if (spec_ && !words_only_ && short_flags(t)) return {};
    if (spec_) {
      cl_.words.push_back(t);
      if (spec_->words_then_literal && cl_.words.size() >= spec_->words_then_literal)
        words_only_ = true;  // exec: the command's own words follow, options included
      return {};
    }
    spec_ = find_command(t);
    if (!spec_)
      return make_error(errc::invalid_argument, "unknown command '" + t + "'\n" + commands_usage());
    cl_.command = t;
    return {};
  }

  // "-f", "-it": a command's short flags, all known; otherwise the token is a word.
  bool short_flags(const std::string& t) {
    if (t.size() < 2 || t[0] != '-' || t[1] == '-') return false;
    std::vector<std::string> names;
    for (char c : t.substr(1)) {
      auto o = std::find_if(spec_->options.begin(), spec_->options.end(),
                            [c](const option_spec& s) { return s.short_name == c; });
      if (o == spec_->options.end()) return false;
      names.emplace_back(o->name);
    }
    for (auto& n : names) cl_.options[n].push_back("");
    return true;
  }

  common::result<void> take_option(const std::string& t) {
    std::string name = option_name(t);
    bool inline_value = t.find('=') != std::string::npos;
    if (const option_spec* own = spec_ ? find_option(*spec_, name) : nullptr) {
      if (!own->takes_value && inline_value)
        return make_error(errc::invalid_argument, "option --" + name + " takes no value");
      std::string v;
      if (own->takes_value) {
        auto got = option_value(t, name, inline_value);
        if (!got) return got.err();
        v = *got;
      }
      cl_.options[name].push_back(v);
      return {};
    }
    auto global = global_takes_value(globals_, name);
    if (!global)
      return make_error(errc::invalid_argument,
                        "unknown option --" + name +
                            (spec_ ? " for '" + cl_.command + "'" : std::string()) + "\n" +
                            commands_usage());
    cl_.global_args.push_back(t);
    if (*global && !inline_value) {
      auto got = option_value(t, name, false);
      if (!got) return got.err();
      cl_.global_args.push_back(*got);
    }
    return {};
  }

  common::result<std::string> option_value(const std::string& t, const std::string& name,
                                           bool inline_value) {
    if (inline_value) return t.substr(t.find('=') + 1);
    if (i_ + 1 >= args_.size())
      return make_error(errc::invalid_argument, "option --" + name + " needs a value");
    return args_[++i_];
  }

  const std::vector<std::string>& args_;
  const po::options_description& globals_;
  command_line cl_;
  const command_spec* spec_ = nullptr;
  bool words_only_ = false;
  std::size_t i_ = 1;
};

}  // namespace

common::result<command_line> parse_command_line(const std::vector<std::string>& args,
                                                const po::options_description& globals) {
  return argv_splitter(args, globals).run();
}

}  // namespace dockmesh::cli
