#include "common/envelope.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <random>

#include <msgpack.hpp>

#include "common/msgpack_json.hpp"

namespace dockmesh::common {
namespace {

using nlohmann::json;

void pack_str(msgpack::packer<msgpack::sbuffer>& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

// Counts the fields written so that the map header can be exact without a second pass.
std::uint32_t field_count(const envelope& e) {
  std::uint32_t n = 2;  // v, id
  for (const std::string* s : {&e.action, &e.from, &e.reply_to, &e.user, &e.role, &e.re})
    n += s->empty() ? 0 : 1;
  n += e.attempt ? 1 : 0;
  n += e.deadline ? 1 : 0;
  n += e.epoch ? 1 : 0;
  n += e.code ? 1 : 0;
  n += e.body.is_null() ? 0 : 1;
  n += e.err ? 1 : 0;
  return n;
}

error malformed(std::string what) {
  return make_error(errc::malformed, std::move(what));
}

result<std::string> get_string(const msgpack::object& o, std::string_view field) {
  if (o.type != msgpack::type::STR)
    return malformed("envelope field '" + std::string(field) + "' must be a string");
  std::string_view sv(o.via.str.ptr, o.via.str.size);
  if (!valid_utf8(sv)) return malformed("envelope field '" + std::string(field) + "' is not UTF-8");
  return std::string(sv);
}

result<std::int64_t> get_int(const msgpack::object& o, std::string_view field) {
  if (o.type == msgpack::type::POSITIVE_INTEGER) {
    if (o.via.u64 > static_cast<std::uint64_t>(INT64_MAX))
      return malformed("envelope field '" + std::string(field) + "' is out of range");
    return static_cast<std::int64_t>(o.via.u64);
  }
  if (o.type == msgpack::type::NEGATIVE_INTEGER) return o.via.i64;
  return malformed("envelope field '" + std::string(field) + "' must be an integer");
}

result<void> read_error(const msgpack::object& o, envelope& e) {
  if (o.type != msgpack::type::MAP) return malformed("envelope field 'error' must be a map");
  error er{errc::internal, {}};
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return malformed("error keys must be strings");
    std::string_view k(kv.key.via.str.ptr, kv.key.via.str.size);
    if (k == "message") {
      auto s = get_string(kv.val, "error.message");
      if (!s) return s.err();
      er.message = std::move(*s);
    } else if (k == "code") {
      auto s = get_string(kv.val, "error.code");
      if (!s) return s.err();
      er.code = errc_from_string(*s);
    }
  }
  e.err = std::move(er);
  return {};
}

result<void> read_field(std::string_view key, const msgpack::object& val, envelope& e,
                        const decode_limits& limits) {
  auto str_field = [&](std::string& out) -> result<void> {
    auto s = get_string(val, key);
    if (!s) return s.err();
    out = std::move(*s);
    return {};
  };
  auto int_field = [&](auto& out) -> result<void> {
    auto n = get_int(val, key);
    if (!n) return n.err();
    out = static_cast<std::remove_reference_t<decltype(out)>>(*n);
    return {};
  };
  if (key == "v") return int_field(e.v);
  if (key == "id") return str_field(e.id);
  if (key == "attempt") return int_field(e.attempt);
  if (key == "action") return str_field(e.action);
  if (key == "from") return str_field(e.from);
  if (key == "reply_to") return str_field(e.reply_to);
  if (key == "user") return str_field(e.user);
  if (key == "role") return str_field(e.role);
  if (key == "deadline") return int_field(e.deadline);
  if (key == "epoch") return int_field(e.epoch);
  if (key == "re") return str_field(e.re);
  if (key == "code") return int_field(e.code);
  if (key == "error") return read_error(val, e);
  if (key == "body") {
    auto b = msgpack_to_json(val, limits.max_depth);
    if (!b) return b.err();
    e.body = std::move(*b);
    return {};
  }
  return {};  // unknown fields are ignored: newer senders may add some
}

}  // namespace

std::string encode(const envelope& e) {
  msgpack::sbuffer buf(256);
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(field_count(e));
  pack_str(pk, "v");
  pk.pack_int(e.v);
  pack_str(pk, "id");
  pack_str(pk, e.id);
  auto opt_str = [&](std::string_view k, const std::string& v) {
    if (v.empty()) return;
    pack_str(pk, k);
    pack_str(pk, v);
  };
  opt_str("action", e.action);
  opt_str("from", e.from);
  opt_str("reply_to", e.reply_to);
  opt_str("user", e.user);
  opt_str("role", e.role);
  opt_str("re", e.re);
  if (e.attempt) {
    pack_str(pk, "attempt");
    pk.pack_int(e.attempt);
  }
  if (e.deadline) {
    pack_str(pk, "deadline");
    pk.pack_int64(e.deadline);
  }
  if (e.epoch) {
    pack_str(pk, "epoch");
    pk.pack_int64(e.epoch);
  }
  if (e.code) {
    pack_str(pk, "code");
    pk.pack_int(e.code);
  }
  if (!e.body.is_null()) {
    pack_str(pk, "body");
    pack_json(pk, e.body);
  }
  if (e.err) {
    pack_str(pk, "error");
    pk.pack_map(2);
    pack_str(pk, "code");
    pack_str(pk, to_string(e.err->code));
    pack_str(pk, "message");
    // Error messages quote what was wrong, which may be hostile bytes: keep the reply decodable.
    pack_str(pk, to_valid_utf8(e.err->message));
  }
  return std::string(buf.data(), buf.size());
}

namespace {

// The unpack limits bound every container and string, and the depth, before allocation. msgpack
// allocates a container's elements when it reads the header, before the elements: a 5-byte
// frame claiming 100,000 entries would cost 2.4 MB (4.8 MB for a map) per message. Every element
// takes at least one byte of the frame, so no honest container has more elements than the frame
// has bytes: that bound is applied too.
msgpack::unpack_limit unpack_limits(std::string_view bytes, const decode_limits& limits) {
  std::size_t elements = std::min(limits.max_elements, bytes.size());
  return msgpack::unpack_limit(elements, elements, limits.max_string, limits.max_string,
                               limits.max_string, limits.max_depth);
}

// A container over the element bound: too large when the frame is big enough to hold what the
// configured limit refuses, otherwise a header that claims more elements than there are bytes.
error container_overflow(std::string_view bytes, const decode_limits& limits,
                         const std::exception& ex) {
  if (bytes.size() > limits.max_elements)
    return error{errc::too_large, std::string("envelope over a decode limit: ") + ex.what()};
  return error{errc::malformed,
               "not a msgpack envelope: a container claims more elements than "
               "the envelope has bytes"};
}

}  // namespace

result<envelope> decode(std::string_view bytes, const decode_limits& limits) {
  if (bytes.size() > limits.max_bytes)
    return make_error(errc::too_large, "envelope of " + std::to_string(bytes.size()) +
                                           " bytes exceeds the limit of " +
                                           std::to_string(limits.max_bytes));
  msgpack::object_handle oh;
  try {
    std::size_t off = 0;
    oh = msgpack::unpack(bytes.data(), bytes.size(), off, nullptr, nullptr,
                         unpack_limits(bytes, limits));
    if (off != bytes.size()) return malformed("trailing bytes after the envelope");
  } catch (const msgpack::depth_size_overflow&) {
    return make_error(errc::too_large, "envelope nested too deeply");
  } catch (const msgpack::array_size_overflow& ex) {
    return container_overflow(bytes, limits, ex);
  } catch (const msgpack::map_size_overflow& ex) {
    return container_overflow(bytes, limits, ex);
  } catch (const msgpack::size_overflow& ex) {
    return make_error(errc::too_large, std::string("envelope over a decode limit: ") + ex.what());
  } catch (const std::exception& ex) {
    return malformed(std::string("not a msgpack envelope: ") + ex.what());
  }
  const msgpack::object& o = oh.get();
  if (o.type != msgpack::type::MAP) return malformed("envelope must be a msgpack map");
  envelope e;
  e.v = 0;
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) return malformed("envelope keys must be strings");
    auto r =
        read_field(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), kv.val, e, limits);
    if (!r) return r.err();
  }
  if (e.v != protocol_version)
    return malformed("unsupported protocol version " + std::to_string(e.v));
  if (e.id.empty()) return malformed("envelope has no 'id'");
  if (!e.body.is_null() && !e.body.is_object()) return malformed("envelope 'body' must be a map");
  return e;
}

std::optional<envelope_peek> peek_envelope(std::string_view bytes, const decode_limits& limits) {
  if (bytes.size() > limits.max_bytes) return std::nullopt;
  msgpack::object_handle oh;
  try {
    std::size_t off = 0;
    // Strings stay references into `bytes`: nothing of a large body is copied.
    auto by_reference = [](msgpack::type::object_type, std::size_t, void*) { return true; };
    oh = msgpack::unpack(bytes.data(), bytes.size(), off, by_reference, nullptr,
                         unpack_limits(bytes, limits));
    if (off != bytes.size()) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const msgpack::object& o = oh.get();
  if (o.type != msgpack::type::MAP) return std::nullopt;
  envelope_peek p;
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) continue;
    std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
    if (key == "code" && kv.val.type == msgpack::type::POSITIVE_INTEGER && kv.val.via.u64 < 1000)
      p.code = static_cast<int>(kv.val.via.u64);
    if (kv.val.type != msgpack::type::STR) continue;
    std::string_view val(kv.val.via.str.ptr, kv.val.via.str.size);
    if (key == "from")
      p.from = val;
    else if (key == "re")
      p.re = val;
    else if (key == "action")
      p.action = val;
  }
  return p;
}

result<std::string> request_id_from_key(std::string_view user, std::string_view key) {
  if (key.empty() || key.size() > 256)
    return make_error(errc::invalid_argument, "an idempotency key has 1 to 256 characters");
  // user and key are length-prefixed so that ("ab", "c") and ("a", "bc") differ.
  std::string input =
      std::to_string(user.size()) + ":" + std::string(user) + ":" + std::string(key);
  if (sodium_init() < 0) return make_error(errc::internal, "libsodium did not initialise");
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  static const char* hex = "0123456789abcdef";
  std::string out = "key-";
  for (unsigned char c : hash) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

envelope make_reply(const envelope& request, std::string from, int code, json body) {
  envelope r;
  r.id = new_message_id();
  r.re = request.id;
  r.attempt = 0;
  r.from = std::move(from);
  r.code = code;
  r.body = std::move(body);
  return r;
}

envelope make_error_reply(const envelope& request, std::string from, const error& e) {
  envelope r = make_reply(request, std::move(from), to_status(e.code), nullptr);
  r.err = e;
  return r;
}

json to_json(const envelope& e) {
  json j = json::object();
  j["v"] = e.v;
  j["id"] = e.id;
  if (e.attempt) j["attempt"] = e.attempt;
  auto opt = [&](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  opt("action", e.action);
  opt("from", e.from);
  opt("reply_to", e.reply_to);
  opt("user", e.user);
  opt("role", e.role);
  opt("re", e.re);
  if (e.deadline) j["deadline"] = e.deadline;
  if (e.epoch) j["epoch"] = e.epoch;
  if (e.code) j["code"] = e.code;
  if (!e.body.is_null()) j["body"] = e.body;
  if (e.err) j["error"] = {{"code", to_string(e.err->code)}, {"message", e.err->message}};
  return j;
}

std::string new_message_id() {
  // 128 random bits per id; the generator is seeded once per thread from the OS.
  thread_local std::mt19937_64 gen{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t x = gen();
    for (int i = 0; i < 16; ++i) out[half * 16 + i] = hex[(x >> (i * 4)) & 0xf];
  }
  return out;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace dockmesh::common
