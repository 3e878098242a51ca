#include "common/curve_keys.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <zmq.h>

#include "common/private_file.hpp"

namespace dockmesh::common {
namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

curve_keypair generate_keypair() {
  char pub[41] = {};
  char sec[41] = {};
  if (zmq_curve_keypair(pub, sec) != 0)
    throw std::runtime_error("cannot generate a CURVE key pair: libzmq built without CURVE");
  return {pub, sec};
}

bool valid_z85_key(std::string_view key) {
  if (key.size() != 40) return false;
  static constexpr std::string_view alphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  for (char c : key)
    if (alphabet.find(c) == std::string_view::npos) return false;
  return true;
}

curve_keypair load_keypair(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read key file " + path);
  curve_keypair k;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    std::string name = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (name == "public-key") k.public_key = value;
    if (name == "secret-key") k.secret_key = value;
  }
  if (!valid_z85_key(k.public_key) || !valid_z85_key(k.secret_key))
    throw std::runtime_error(
        "key file " + path +
        " needs 'public-key = <Z85>' and 'secret-key = <Z85>' (40 chars each)");
  return k;
}

void save_keypair(const std::string& path, const curve_keypair& keys) {
  std::ostringstream text;
  text << "# dockmesh CURVE key pair; keep the secret key private\n"
       << "public-key = " << keys.public_key << "\n"
       << "secret-key = " << keys.secret_key << "\n";
  try {
    write_private_file(path, text.str());
  } catch (const std::runtime_error&) {
    throw std::runtime_error("cannot write key file " + path);
  }
}

std::string resolve_public_key(const std::string& given) {
  // Explicit forms win: "z85:KEY" is the key, "file:PATH" a key file. A bare argument is a file
  // when such a file exists (a 40-character path is not mistaken for a key), else a Z85 key.
  std::string key_or_path = given;
  if (given.rfind("z85:", 0) == 0) {
    std::string key = given.substr(4);
    if (!valid_z85_key(key))
      throw std::runtime_error("broker key 'z85:...' is not a 40-character Z85 key");
    return key;
  }
  bool explicit_file = given.rfind("file:", 0) == 0;
  if (explicit_file) key_or_path = given.substr(5);
  if (!explicit_file && valid_z85_key(key_or_path) && !std::ifstream(key_or_path))
    return key_or_path;
  std::ifstream in(key_or_path);
  if (!in)
    throw std::runtime_error("broker key '" + key_or_path +
                             "' is neither a 40-char Z85 key nor a readable key file");
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    std::string t = trim(line);
    // A file holding just the key: checked first, since '=' is itself a Z85 character.
    if (valid_z85_key(t)) return t;
    if (eq == std::string::npos) continue;
    if (trim(line.substr(0, eq)) == "public-key") {
      std::string v = trim(line.substr(eq + 1));
      if (valid_z85_key(v)) return v;
    }
  }
  throw std::runtime_error("no public key found in " + key_or_path);
}

}  // namespace dockmesh::common
