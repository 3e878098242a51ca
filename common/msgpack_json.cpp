#include "common/msgpack_json.hpp"

#include <cmath>

namespace dockmesh::common {

using nlohmann::json;

void pack_json(msgpack::packer<msgpack::sbuffer>& pk, const json& j) {
  switch (j.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      pk.pack_nil();
      return;
    case json::value_t::boolean:
      j.get<bool>() ? pk.pack_true() : pk.pack_false();
      return;
    case json::value_t::number_integer:
      pk.pack_int64(j.get<std::int64_t>());
      return;
    case json::value_t::number_unsigned:
      pk.pack_uint64(j.get<std::uint64_t>());
      return;
    case json::value_t::number_float:
      pk.pack_double(j.get<double>());
      return;
    case json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      pk.pack_str(static_cast<std::uint32_t>(s.size()));
      pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
      return;
    }
    case json::value_t::binary: {
      const auto& b = j.get_binary();
      pk.pack_bin(static_cast<std::uint32_t>(b.size()));
      pk.pack_bin_body(reinterpret_cast<const char*>(b.data()),
                       static_cast<std::uint32_t>(b.size()));
      return;
    }
    case json::value_t::array:
      pk.pack_array(static_cast<std::uint32_t>(j.size()));
      for (const auto& v : j) pack_json(pk, v);
      return;
    case json::value_t::object:
      pk.pack_map(static_cast<std::uint32_t>(j.size()));
      for (const auto& [k, v] : j.items()) {
        pk.pack_str(static_cast<std::uint32_t>(k.size()));
        pk.pack_str_body(k.data(), static_cast<std::uint32_t>(k.size()));
        pack_json(pk, v);
      }
      return;
  }
}

result<json> msgpack_to_json(const msgpack::object& o, std::size_t max_depth) {
  if (max_depth == 0) return make_error(errc::too_large, "body nested too deeply");
  switch (o.type) {
    case msgpack::type::NIL:
      return json(nullptr);
    case msgpack::type::BOOLEAN:
      return json(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER:
      return json(o.via.u64);
    case msgpack::type::NEGATIVE_INTEGER:
      return json(o.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      if (!std::isfinite(o.via.f64))
        return make_error(errc::malformed, "body has a non-finite number");
      return json(o.via.f64);
    case msgpack::type::STR: {
      std::string_view sv(o.via.str.ptr, o.via.str.size);
      if (!valid_utf8(sv))
        return make_error(errc::malformed, "body holds a string that is not UTF-8");
      return json(std::string(sv));
    }
    case msgpack::type::ARRAY: {
      json a = json::array();
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
        auto v = msgpack_to_json(o.via.array.ptr[i], max_depth - 1);
        if (!v) return v.err();
        a.push_back(std::move(*v));
      }
      return a;
    }
    case msgpack::type::MAP: {
      json m = json::object();
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR)
          return make_error(errc::malformed, "body map keys must be strings");
        if (!valid_utf8(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size)))
          return make_error(errc::malformed, "body holds a key that is not UTF-8");
        auto v = msgpack_to_json(kv.val, max_depth - 1);
        if (!v) return v.err();
        m[std::string(kv.key.via.str.ptr, kv.key.via.str.size)] = std::move(*v);
      }
      return m;
    }
    case msgpack::type::BIN:
    case msgpack::type::EXT:
      break;
  }
  return make_error(errc::malformed, "body holds binary or extension data");
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;  // continuation bytes that follow
    std::uint32_t cp;
    if (c < 0x80) {
      n = 0, cp = c;
    } else if ((c >> 5) == 0x6) {
      n = 1, cp = c & 0x1f;
    } else if ((c >> 4) == 0xe) {
      n = 2, cp = c & 0x0f;
    } else if ((c >> 3) == 0x1e) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

std::string to_valid_utf8(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    // Take the longest valid prefix of up to 4 bytes; an invalid byte becomes '?'.
    std::size_t take = 0;
    for (std::size_t n = std::min<std::size_t>(4, s.size() - i); n > 0 && !take; --n)
      if (valid_utf8(s.substr(i, n))) take = n;
    if (take) {
      out.append(s.substr(i, take));
      i += take;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

errc errc_from_string(std::string_view s) {
  for (errc c : {errc::malformed, errc::invalid_argument, errc::too_large, errc::unauthorized,
                 errc::forbidden, errc::not_found, errc::conflict, errc::unavailable, errc::timeout,
                 errc::internal})
    if (to_string(c) == s) return c;
  return errc::internal;
}

}  // namespace dockmesh::common
