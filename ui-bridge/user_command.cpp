#include "ui-bridge/user_command.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "common/config.hpp"
#include "common/storage/etcd_client.hpp"
#include "ui-bridge/etcd_kv_store.hpp"
#include "ui-bridge/token_store.hpp"
#include "ui-bridge/user_store.hpp"

namespace dockmesh::bridge {

namespace po = boost::program_options;

namespace {

constexpr const char* usage =
    "Usage: dockmesh-bridge user add NAME [--role user|admin] [--password-file F]\n"
    "       dockmesh-bridge user passwd NAME [--password-file F]\n"
    "       dockmesh-bridge user remove NAME\n"
    "       dockmesh-bridge user list\n"
    "(all with --data-dir DIR, or --etcd URL,... when bridges keep their users in etcd;\n"
    " without --password-file a password is generated and printed)\n";

std::optional<std::string> read_password_file(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

int set_password(user_store& users, const po::variables_map& vm, const std::string& verb,
                 const std::string& name, std::ostream& out, std::ostream& err) {
  bool generated = !vm.count("password-file");
  std::string password = generate_password();
  if (!generated) {
    auto p = read_password_file(vm["password-file"].as<std::string>());
    if (!p) return err << "cannot read the password file\n", 1;
    password = *p;
  }
  auto role = parse_user_role(vm["role"].as<std::string>());
  if (!role) return err << "--role must be user or admin\n", 2;
  auto u = verb == "add" ? users.add(name, password, *role) : users.set_password(name, password);
  if (!u) return err << u.err().message << "\n", 1;
  out << (verb == "add" ? "added " : "changed the password of ") << u->name << " ("
      << to_string(u->role) << ")";
  if (generated) out << "; password: " << password;
  out << "\n";
  return 0;
}

}  // namespace

int run_user_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  po::options_description options("dockmesh-bridge user options");
  // clang-format off
  options.add_options()
      ("data-dir", po::value<std::string>(), "the bridge's data directory")
      ("etcd", po::value<std::string>(), "the bridges' users are in etcd: URL,URL,... (as --etcd of the bridge)")
      ("role", po::value<std::string>()->default_value("user"), "user or admin (add)")
      ("password-file", po::value<std::string>(), "read the password from this file's first line")
      ("verb", po::value<std::string>(), "add, passwd, remove or list")
      ("name", po::value<std::string>(), "user name");
  // clang-format on
  po::positional_options_description positional;
  positional.add("verb", 1).add("name", 1);
  auto config = common::parse_config(argc, argv, "dockmesh-bridge user", options, &positional);
  if (config.exit_now) return config.exit_code;
  const auto& vm = config.vm;
  std::string verb = vm.count("verb") ? vm["verb"].as<std::string>() : "";
  std::string name = vm.count("name") ? vm["name"].as<std::string>() : "";
  bool needs_name = verb == "add" || verb == "passwd" || verb == "remove";
  bool in_etcd = vm.count("etcd") > 0;
  if ((!vm.count("data-dir") && !in_etcd) || (!needs_name && verb != "list") ||
      (needs_name && name.empty()))
    return err << usage, 2;
  std::unique_ptr<kv_store> store;
  if (in_etcd) {
    store =
        std::make_unique<etcd_kv_store>(common::parse_etcd_endpoints(vm["etcd"].as<std::string>()));
  } else {
    std::string dir = vm["data-dir"].as<std::string>();
    std::filesystem::create_directories(dir);
    store = std::make_unique<rocks_kv_store>(dir + "/db");
  }
  kv_store& kv = *store;
  user_store users(kv);
  if (verb == "add" || verb == "passwd") return set_password(users, vm, verb, name, out, err);
  if (verb == "remove") {
    if (auto ok = users.remove(name); !ok) return err << ok.err().message << "\n", 1;
    token_store tokens(kv);
    (void)tokens.revoke_all_of(name);
    return out << "removed " << name << "\n", 0;
  }
  auto list = users.list();
  if (!list) return err << list.err().message << "\n", 1;
  for (const auto& u : *list) out << u.name << "\t" << to_string(u.role) << "\n";
  return 0;
}

}  // namespace dockmesh::bridge
