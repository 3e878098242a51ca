#include "common/envelope.hpp"

#include <doctest/doctest.h>
#include <msgpack.hpp>

using namespace dockmesh::common;

namespace {

envelope sample_request() {
  envelope e;
  e.id = new_message_id();
  e.action = "create-container";
  e.from = "ctl-1";
  e.reply_to = "rep/ctl-1/";
  e.user = "alice";
  e.role = "user";
  e.deadline = 1700000000123;
  e.epoch = 42;
  e.body = {{"image", "local/busybox:latest"},
            {"cmd", {"sleep", "60"}},
            {"n", -3},
            {"ok", true},
            {"ratio", 0.5},
            {"nested", {{"a", {1, 2, {{"b", nullptr}}}}}}};
  return e;
}

template <class T>
std::string pack_value(const T& v) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, v);
  return {buf.data(), buf.size()};
}

}  // namespace

TEST_CASE("a request round-trips through the codec") {
  envelope e = sample_request();
  auto d = decode(encode(e));
  REQUIRE(d.ok());
  CHECK(d->id == e.id);
  CHECK(d->action == e.action);
  CHECK(d->from == e.from);
  CHECK(d->reply_to == e.reply_to);
  CHECK(d->user == "alice");
  CHECK(d->role == "user");
  CHECK(d->deadline == e.deadline);
  CHECK(d->epoch == 42);
  CHECK(d->body == e.body);
  CHECK_FALSE(d->is_reply());
}

TEST_CASE("an error reply round-trips with its code and message") {
  envelope req = sample_request();
  auto r = make_error_reply(req, "host1", make_error(errc::not_found, "no such container: x"));
  auto d = decode(encode(r));
  REQUIRE(d.ok());
  CHECK(d->is_reply());
  CHECK(d->re == req.id);
  CHECK(d->code == 404);
  REQUIRE(d->err.has_value());
  CHECK(d->err->code == errc::not_found);
  CHECK(d->err->message == "no such container: x");
}

TEST_CASE("message ids are unique and 32 hex chars") {
  auto a = new_message_id(), b = new_message_id();
  CHECK(a.size() == 32);
  CHECK(a != b);
}

TEST_CASE("every truncation of a valid envelope is rejected, never thrown") {
  std::string bytes = encode(sample_request());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto d = decode(std::string_view(bytes.data(), n));
    CHECK_FALSE(d.ok());
  }
}

TEST_CASE("garbage bytes are malformed") {
  CHECK(decode("").err().code == errc::malformed);
  CHECK(decode("\xc1").err().code == errc::malformed);          // never-used msgpack byte
  CHECK(decode(pack_value(42)).err().code == errc::malformed);  // not a map
  CHECK(decode(pack_value(std::vector<int>{1, 2})).err().code == errc::malformed);
}

TEST_CASE("wrongly typed fields are rejected with the field's name") {
  auto with = [](std::map<std::string, int> ints, std::map<std::string, std::string> strs) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pk.pack_map(static_cast<uint32_t>(ints.size() + strs.size()));
    for (auto& [k, v] : ints) pk.pack(k), pk.pack(v);
    for (auto& [k, v] : strs) pk.pack(k), pk.pack(v);
    return std::string(buf.data(), buf.size());
  };
  auto d = decode(with({{"v", 1}, {"id", 7}}, {}));
  REQUIRE_FALSE(d.ok());
  CHECK(d.err().message.find("'id'") != std::string::npos);
  d = decode(with({{"v", 1}}, {{"id", "x"}, {"code", "200"}}));
  REQUIRE_FALSE(d.ok());
  CHECK(d.err().message.find("'code'") != std::string::npos);
  d = decode(with({}, {{"v", "1"}, {"id", "x"}}));
  REQUIRE_FALSE(d.ok());
  d = decode(with({{"v", 2}}, {{"id", "x"}}));
  REQUIRE_FALSE(d.ok());
  CHECK(d.err().message.find("version") != std::string::npos);
  d = decode(with({{"v", 1}}, {{"action", "ping"}}));
  REQUIRE_FALSE(d.ok());
  CHECK(d.err().message.find("'id'") != std::string::npos);
  d = decode(with({{"v", 1}, {"body", 3}}, {{"id", "x"}}));
  REQUIRE_FALSE(d.ok());
  CHECK(d.err().message.find("body") != std::string::npos);
}

TEST_CASE("a container claiming more elements than the frame has bytes is malformed") {
  // A map16 header claiming 65,535 entries in a 9-byte frame: msgpack would allocate 3.1 MB
  // for it before reading on; the byte bound refuses it first.
  std::string claims =
      "\x81\xa4"
      "body"
      "\xde\xff\xff";
  auto d = decode(claims);
  REQUIRE_FALSE(d.ok());
  CHECK(d.err().code == errc::malformed);
  CHECK_MESSAGE(d.err().message.find("more elements than") != std::string::npos, d.err().message);
  CHECK_FALSE(peek_envelope(claims).has_value());
  // A body of many one-byte elements is within the bound and still decodes.
  envelope e = sample_request();
  e.body = {{"many", std::vector<int>(5000, 1)}};
  auto ok = decode(encode(e));
  REQUIRE(ok.ok());
  CHECK(ok->body["many"].size() == 5000);
}

TEST_CASE("oversized and deeply nested input is too_large") {
  envelope e = sample_request();
  e.body = {{"blob", std::string(2 * 1024 * 1024, 'x')}};
  decode_limits small;
  small.max_bytes = 1024 * 1024;
  CHECK(decode(encode(e), small).err().code == errc::too_large);

  nlohmann::json deep = 1;
  for (int i = 0; i < 200; ++i) deep = nlohmann::json::array({deep});
  e.body = {{"deep", deep}};
  auto d = decode(encode(e));
  REQUIRE_FALSE(d.ok());
  CHECK(d.err().code == errc::too_large);

  // A header that claims 2^32-1 elements must fail on the limit, not try to allocate.
  std::string huge_array =
      "\x81\xa4"
      "body"
      "\xdd\xff\xff\xff\xff";
  CHECK_FALSE(decode(huge_array).ok());
}

TEST_CASE("non-UTF-8 strings and binary bodies are malformed") {
  envelope e = sample_request();
  e.action = "ping\xff";
  CHECK(decode(encode(e)).err().code == errc::malformed);
  e = sample_request();
  e.body = {{"k", std::string("\xc0\x80")}};  // overlong NUL
  CHECK(decode(encode(e)).err().code == errc::malformed);
  e.body = {{"k", nlohmann::json::binary({1, 2, 3})}};
  CHECK(decode(encode(e)).err().code == errc::malformed);
  e.body = {{"k", "h\xc3\xa9llo \xe2\x9c\x93"}};
  CHECK(decode(encode(e)).ok());
}

TEST_CASE("trailing bytes are rejected") {
  std::string bytes = encode(sample_request()) + "x";
  CHECK(decode(bytes).err().code == errc::malformed);
}

TEST_CASE("to_json shows the reply fields") {
  envelope req = sample_request();
  auto r = make_reply(req, "host1", 200, {{"pong", true}});
  auto j = to_json(r);
  CHECK(j["re"] == req.id);
  CHECK(j["code"] == 200);
  CHECK(j["body"]["pong"] == true);
  CHECK_FALSE(j.contains("error"));
}

TEST_CASE("an error message quoting non-UTF-8 input still gives a decodable reply") {
  envelope req = sample_request();
  auto r =
      make_error_reply(req, "host1", make_error(errc::invalid_argument, "bad name 'a\xff\xc3'"));
  auto d = decode(encode(r));
  REQUIRE(d.ok());
  CHECK(d->err->message ==
        "bad name 'a?"
        "?'");
}
