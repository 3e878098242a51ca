#include "ui-bridge/user_store.hpp"
#include "ui-bridge/json_fields.hpp"

#include <sodium.h>

#include "common/envelope.hpp"
#include "ui-bridge/base64url.hpp"

namespace dockmesh::bridge {

using common::errc;
using common::make_error;

namespace {

std::string user_key(std::string_view name) {
  return "user/" + std::string(name);
}

// Records from before user ids: an id derived from what tells two incarnations of a name apart.
// "u" and hex digits: a user id. Appended, not `"u" + std::string`: GCC 12 at -O3 warns
// -Wrestrict (a false positive inside std::string).
std::string user_id_of(std::string_view hex) {
  std::string id = "u";
  id.append(hex);
  return id;
}

std::string legacy_user_id(const std::string& name, std::int64_t created_ms) {
  std::string seed = name + "/" + std::to_string(created_ms);
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(seed.data()),
                     seed.size(), nullptr, 0);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return user_id_of(hex);
}

nlohmann::json to_stored(const user_record& u) {
  return {{"name", u.name},
          {"id", u.id},
          {"role", to_string(u.role)},
          {"hash", u.password_hash},
          {"generation", u.generation},
          {"created", u.created_ms}};
}

std::optional<user_record> from_stored(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  auto role = parse_user_role(text_of(j, "role"));
  if (!role) return std::nullopt;
  user_record u;
  u.name = text_of(j, "name");
  u.role = *role;
  u.password_hash = text_of(j, "hash");
  u.generation = integer_of(j, "generation", 1);
  u.created_ms = integer_of(j, "created");
  u.id = text_of(j, "id");
  if (!common::is_user_id(u.id)) u.id = legacy_user_id(u.name, u.created_ms);
  return u;
}

}  // namespace

nlohmann::json public_view(const user_record& u) {
  return {{"name", u.name}, {"id", u.id}, {"role", to_string(u.role)}, {"created", u.created_ms}};
}

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name[0])) return false;
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

user_store::user_store(kv_store& kv, hash_strength strength) : kv_(kv), strength_(strength) {}

common::result<void> user_store::save(const user_record& u) {
  return kv_.put_json(user_key(u.name), to_stored(u), durability::sync);
}

common::result<user_record> user_store::add(const std::string& name, std::string_view password,
                                            user_role role) {
  if (!valid_user_name(name))
    return make_error(errc::invalid_argument,
                      "user name must be 1-32 characters of a-z 0-9 . _ - starting with a letter "
                      "or digit");
  auto hash = hash_password(password, strength_);
  if (!hash) return hash.err();
  std::lock_guard lock(write_mutex_);
  auto existing = find(name);
  if (!existing) return existing.err();
  if (existing->has_value()) return make_error(errc::conflict, "user " + name + " already exists");
  user_record u{name, user_id_of(random_hex(16)), role, *hash, 1, common::now_ms()};
  // Another bridge sharing the store may add the same name at the same moment: one wins.
  auto made = kv_.create(user_key(u.name), to_stored(u).dump());
  if (!made) return made.err();
  if (!*made) return make_error(errc::conflict, "user " + name + " already exists");
  return u;
}

common::result<user_record> user_store::set_password(const std::string& name,
                                                     std::string_view password) {
  auto hash = hash_password(password, strength_);
  if (!hash) return hash.err();
  std::lock_guard lock(write_mutex_);
  auto existing = find(name);
  if (!existing) return existing.err();
  if (!existing->has_value()) return make_error(errc::not_found, "no user " + name);
  user_record u = **existing;
  u.password_hash = *hash;
  u.generation += 1;
  if (auto ok = save(u); !ok) return ok.err();
  return u;
}

common::result<void> user_store::remove(const std::string& name) {
  std::lock_guard lock(write_mutex_);
  auto existing = find(name);
  if (!existing) return existing.err();
  if (!existing->has_value()) return make_error(errc::not_found, "no user " + name);
  return kv_.remove(user_key(name), durability::sync);
}

common::result<std::optional<user_record>> user_store::find(const std::string& name) const {
  if (!valid_user_name(name)) return std::optional<user_record>();
  auto j = kv_.get_json(user_key(name));
  if (!j) return j.err();
  if (!j->has_value()) return std::optional<user_record>();
  auto u = from_stored(**j);
  if (!u) return make_error(errc::internal, "storage: corrupt user record " + name);
  return u;
}

common::result<std::vector<user_record>> user_store::list() const {
  auto rows = kv_.scan("user/");
  if (!rows) return rows.err();
  std::vector<user_record> out;
  for (auto& [key, value] : *rows) {
    auto u = from_stored(nlohmann::json::parse(value, nullptr, false));
    if (u) out.push_back(std::move(*u));
  }
  return out;
}

common::result<user_record> user_store::check_login(const std::string& name,
                                                    std::string_view password) const {
  auto u = find(name);
  if (!u) return u.err();
  if (!u->has_value()) {
    burn_password_check(password);
    return make_error(errc::unauthorized, "wrong user name or password");
  }
  if (!verify_password((*u)->password_hash, password))
    return make_error(errc::unauthorized, "wrong user name or password");
  return **u;
}

common::result<std::optional<std::string>> user_store::ensure_first_admin() {
  auto users = list();
  if (!users) return users.err();
  if (!users->empty()) return std::optional<std::string>();
  std::string password = generate_password();
  auto u = add("admin", password, user_role::admin);
  if (!u && u.err().code == errc::conflict) return std::optional<std::string>();  // a peer did
  if (!u) return u.err();
  return std::optional<std::string>(password);
}

}  // namespace dockmesh::bridge
