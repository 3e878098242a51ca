#include "cli/command_line.hpp"

#include <doctest/doctest.h>

#include "cli/ctl_commands.hpp"

namespace po = boost::program_options;
using dockmesh::cli::command_line;
using dockmesh::cli::parse_command_line;

namespace {

po::options_description globals() {
  po::options_description d;
  dockmesh::cli::add_ctl_options(d);
  return d;
}

dockmesh::common::result<command_line> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "dockmeshctl");
  auto g = globals();
  return parse_command_line(args, g);
}

}  // namespace

TEST_CASE("global options before the command go to parse_config, with their values") {
  auto cl = parse({"--config", "m/dockmeshctl.conf", "--timeout=300", "hosts", "--status", "up"});
  REQUIRE(cl.ok());
  CHECK(cl->command == "hosts");
  CHECK(cl->global_args ==
        std::vector<std::string>{"dockmeshctl", "--config", "m/dockmeshctl.conf", "--timeout=300"});
  CHECK(cl->value("status") == "up");
  CHECK(cl->words.empty());
}

TEST_CASE("global options after the command are moved to the globals") {
  auto cl = parse({"send", "--host", "host1.mesh.test", "{\"action\":\"ping\"}", "--broker",
                   "127.0.0.1:7500", "--user", "bob"});
  REQUIRE(cl.ok());
  CHECK(cl->command == "send");
  CHECK(cl->value("host") == "host1.mesh.test");
  CHECK(cl->words == std::vector<std::string>{"{\"action\":\"ping\"}"});
  CHECK(cl->global_args ==
        std::vector<std::string>{"dockmeshctl", "--broker", "127.0.0.1:7500", "--user", "bob"});
}

TEST_CASE("flags, repeated options and --") {
  auto cl = parse({"send", "--all", "{}"});
  REQUIRE(cl.ok());
  CHECK(cl->has("all"));
  CHECK_FALSE(cl->has("host"));

  // A Z85 key may start with '-': after `--` it is a word.
  auto k = parse({"keys", "accept", "--", "--abc"});
  REQUIRE(k.ok());
  CHECK(k->words == std::vector<std::string>{"accept", "--abc"});
  auto dash = parse({"keys", "revoke", "-x1"});
  REQUIRE(dash.ok());
  CHECK(dash->words[1] == "-x1");
}

TEST_CASE("help and no command") {
  auto h = parse({"--help"});
  REQUIRE(h.ok());
  CHECK(h->command.empty());
  CHECK(h->global_args.back() == "--help");
  auto none = parse({});
  REQUIRE(none.ok());
  CHECK(none->command.empty());
}

TEST_CASE("argument errors name what is wrong") {
  auto unknown = parse({"frobnicate"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.err().message.find("unknown command 'frobnicate'") != std::string::npos);

  auto bad_opt = parse({"hosts", "--colour", "red"});
  REQUIRE_FALSE(bad_opt.ok());
  CHECK(bad_opt.err().message.find("unknown option --colour for 'hosts'") != std::string::npos);

  CHECK(parse({"send"}).err().message.find("usage: dockmeshctl send") != std::string::npos);
  CHECK_FALSE(parse({"send", "{}", "{}"}).ok());
  CHECK(parse({"send", "--host"}).err().message.find("--host needs a value") != std::string::npos);
  CHECK(parse({"--config"}).err().message.find("--config needs a value") != std::string::npos);
  CHECK(parse({"send", "--all=yes", "{}"}).err().message.find("takes no value") !=
        std::string::npos);
  CHECK_FALSE(parse({"hosts", "pool", "h1", "u1", "extra"}).ok());
  CHECK_FALSE(parse({"catalogue", "extra"}).ok());
  CHECK_FALSE(parse({"watch", "ann/", "evt/"}).ok());
}

TEST_CASE("keys subcommands are checked") {
  CHECK(parse({"keys", "list"}).ok());
  CHECK(parse({"keys", "accept", "KEY"}).ok());
  CHECK(parse({"keys", "token", "create", "--ttl", "60"}).ok());
  CHECK(parse({"keys", "token", "create"}).err().message.find("--ttl") != std::string::npos);
  CHECK_FALSE(parse({"keys", "accept"}).ok());
  CHECK_FALSE(parse({"keys", "list", "x"}).ok());
  CHECK_FALSE(parse({"keys", "burn", "x"}).ok());
  auto named = parse({"keys", "accept", "KEY", "--role", "agent", "--name", "host9.mesh.test"});
  REQUIRE(named.ok());
  CHECK(named->value("role") == "agent");
  CHECK(named->value("name") == "host9.mesh.test");
  CHECK_FALSE(parse({"keys", "revoke", "KEY", "--name", "x"}).ok());
  CHECK(parse({"status"}).ok());
  CHECK_FALSE(parse({"status", "x"}).ok());
  CHECK(parse({"catalogue"}).ok());
  CHECK_FALSE(parse({"catalogue", "x"}).ok());
}

TEST_CASE("keygen and watch forms") {
  auto kg = parse({"keygen", "--out", "/tmp/k"});
  REQUIRE(kg.ok());
  CHECK(kg->value("out") == "/tmp/k");
  auto w = parse({"watch", "ann/", "--count", "3"});
  REQUIRE(w.ok());
  CHECK(w->words == std::vector<std::string>{"ann/"});
  CHECK(w->value("count") == "3");
  CHECK(parse({"watch"}).ok());
}

TEST_CASE("projects and services take their words and options") {
  auto cl = parse({"services", "create", "shop", "web", "--image", "local/busybox:latest",
                   "--replicas", "3", "--for", "u-1"});
  REQUIRE(cl.ok());
  CHECK(cl->words == std::vector<std::string>{"create", "shop", "web"});
  CHECK(cl->value("replicas") == "3");
  CHECK(parse({"projects"}).ok());
  CHECK_FALSE(parse({"services"}).ok());  // a verb is needed
  CHECK_FALSE(parse({"services", "list", "--colour", "red"}).ok());
}

TEST_CASE("short flags: logs -f, exec -it; exec's command keeps its own options") {
  auto logs = parse({"logs", "-f", "web-1", "--tail", "5"});
  REQUIRE(logs.ok());
  CHECK(logs->has("follow"));
  CHECK(logs->value("tail") == "5");
  CHECK(logs->words == std::vector<std::string>{"web-1"});
  auto exec = parse({"exec", "-it", "web-1", "sh", "-c", "ls --all -i"});
  REQUIRE(exec.ok());
  CHECK(exec->has("interactive"));
  CHECK(exec->has("tty"));
  CHECK(exec->words == std::vector<std::string>{"web-1", "sh", "-c", "ls --all -i"});
  auto literal = parse({"exec", "web-1", "ls", "--color", "-i"});
  REQUIRE(literal.ok());
  CHECK_FALSE(literal->has("interactive"));
  CHECK(literal->words == std::vector<std::string>{"web-1", "ls", "--color", "-i"});
  CHECK_FALSE(parse({"exec", "web-1"}).ok());  // a command is needed
  CHECK_FALSE(parse({"stats"}).ok());
}

TEST_CASE("hosts pool|cordon|drain and quota take their words and options") {
  auto drain =
      parse({"hosts", "drain", "host1.mesh.test", "--batch", "2", "--deadline", "60", "--all"});
  REQUIRE(drain.ok());
  CHECK(drain->words == std::vector<std::string>{"drain", "host1.mesh.test"});
  CHECK(drain->value("batch") == "2");
  CHECK(drain->has("all"));
  CHECK(parse({"hosts", "pool", "host3.mesh.test", "shared"}).ok());
  CHECK(parse({"quota", "set", "u1", "--containers", "2", "--memory", "1024"}).ok());
  CHECK_FALSE(parse({"quota"}).ok());  // a verb is needed
  CHECK_FALSE(parse({"quota", "set", "u1", "--colour", "red"}).ok());
  CHECK(parse({"hosts", "pool", "host2.mesh.test", "team:ops"}).ok());
}

TEST_CASE("teams take a verb and up to a name and 1000 members") {
  CHECK(parse({"teams", "list"}).ok());
  CHECK(parse({"teams", "delete", "ops"}).ok());
  auto set = parse({"teams", "set", "ops", "u1", "u2"});
  REQUIRE(set.ok());
  CHECK(set->words == std::vector<std::string>{"set", "ops", "u1", "u2"});
  CHECK_FALSE(parse({"teams"}).ok());                   // a verb is needed
  CHECK_FALSE(parse({"teams", "list", "--all"}).ok());  // no options
  std::vector<std::string> many{"teams", "set", "ops"};
  for (int i = 0; i < 1001; ++i) many.push_back("u" + std::to_string(i));
  CHECK_FALSE(parse(many).ok());
}
