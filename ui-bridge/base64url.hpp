// base64url: unpadded URL-safe base64 ('-' and '_' for '+' and '/') and random token strings, on
// top of libsodium. Used by the JWT code and for API token secrets. Pure functions, any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dockmesh::bridge {

std::string base64url_encode(std::string_view bytes);
// nullopt when `text` is not valid unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

// `n` random bytes from libsodium's CSPRNG.
std::string random_bytes(std::size_t n);
// `n` random bytes as lower-case hex (2n characters).
std::string random_hex(std::size_t n);

}  // namespace dockmesh::bridge
