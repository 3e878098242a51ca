// Conversion between msgpack and nlohmann::json for envelope bodies. Depth-bounded and
// non-throwing on the decode side: binary, ext and non-string map keys become errc::malformed.
// Pure functions, any thread.
#pragma once

#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dockmesh::common {

void pack_json(msgpack::packer<msgpack::sbuffer>& pk, const nlohmann::json& j);
result<nlohmann::json> msgpack_to_json(const msgpack::object& o, std::size_t max_depth);
errc errc_from_string(std::string_view s);
bool valid_utf8(std::string_view s);
// Replaces every byte that is not part of a valid UTF-8 sequence with '?'.
std::string to_valid_utf8(std::string_view s);

}  // namespace dockmesh::common
