// CURVE key pairs and key files. A key file is text in the config-file syntax:
//   public-key = <40 chars Z85>
//   secret-key = <40 chars Z85>
// written with mode 0600. `dockmeshctl keygen --out FILE` makes one. Start-up code: loaders throw
// std::runtime_error with a clear message on a missing or malformed file.
#pragma once

#include <string>
#include <string_view>

namespace dockmesh::common {

struct curve_keypair {
  std::string public_key;  // Z85, 40 chars
  std::string secret_key;  // Z85, 40 chars
};

curve_keypair generate_keypair();
bool valid_z85_key(std::string_view key);
curve_keypair load_keypair(const std::string& path);                    // throws
void save_keypair(const std::string& path, const curve_keypair& keys);  // throws; mode 0600
// A public key given either inline (40-char Z85) or as a path to a key file (its public-key).
std::string resolve_public_key(const std::string& key_or_path);  // throws

}  // namespace dockmesh::common
