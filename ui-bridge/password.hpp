// password: Argon2id password hashing with libsodium's crypto_pwhash_str (salt and parameters are
// kept inside the encoded string), and generated passwords. Hashing costs ~64 MiB and tens of
// milliseconds on purpose: call it from the bridge's blocking-work pool, never from a Beast
// handler. Stateless; any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace dockmesh::bridge {

enum class hash_strength { interactive, minimal };  // minimal: for unit tests only

common::result<std::string> hash_password(std::string_view password,
                                          hash_strength strength = hash_strength::interactive);
bool verify_password(std::string_view encoded_hash, std::string_view password);
// A dummy verification with the same cost, so that "no such user" takes as long as "wrong
// password" and does not reveal which names exist.
void burn_password_check(std::string_view password);

// 20 characters from an unambiguous alphabet (~115 bits).
std::string generate_password();
// Passwords must be 8..1024 bytes; errc::invalid_argument saying why otherwise.
common::result<void> check_password_policy(std::string_view password);

}  // namespace dockmesh::bridge
