// Fuzz target: common::decode, the first thing every process does with bytes from the bus.
// Properties: decode never throws or crashes, under the default limits and under tight ones; an
// envelope it accepts re-encodes to bytes that decode to the same envelope (to_json equal), and
// whose JSON view and error message are valid UTF-8 (the CLI prints them, the bridge forwards
// them). Tight limits must refuse with too_large/malformed, never accept more than they allow.
#include <cstdint>
#include <string_view>

#include "common/envelope.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace dockmesh::common;

namespace {

void check_roundtrip(const envelope& e) {
  std::string bytes = encode(e);
  auto again = decode(bytes);
  FUZZ_CHECK(again.ok(), "re-encoded envelope does not decode: " + again.err().message);
  auto a = to_json(e), b = to_json(*again);
  FUZZ_CHECK(a == b, "round trip changed the envelope");
  FUZZ_CHECK(encode(*again) == bytes, "encoding is not stable");
  std::string dumped;
  try {
    dumped = a.dump();
  } catch (const nlohmann::json::exception& ex) {
    FUZZ_CHECK(false, std::string("decoded envelope is not printable JSON: ") + ex.what());
  }
  if (e.err) FUZZ_CHECK(dockmesh::fuzz::dumps_as_json(e.err->message), "error message not UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto r = decode(bytes);
  if (r.ok()) {
    FUZZ_CHECK(!r->id.empty() && r->v == protocol_version, "accepted an envelope without id/v");
    FUZZ_CHECK(r->body.is_null() || r->body.is_object(), "accepted a body that is not a map");
    check_roundtrip(*r);
  } else {
    FUZZ_CHECK(!r.err().message.empty(), "refusal without a message");
    FUZZ_CHECK(dockmesh::fuzz::dumps_as_json(r.err().message), "refusal message not UTF-8");
  }

  decode_limits tight;
  tight.max_bytes = 512;
  tight.max_depth = 3;
  tight.max_string = 32;
  tight.max_elements = 8;
  auto t = decode(bytes, tight);
  if (t.ok()) {
    FUZZ_CHECK(size <= tight.max_bytes, "accepted more bytes than max_bytes");
    FUZZ_CHECK(r.ok(), "tight limits accepted what default limits refused");
    FUZZ_CHECK(to_json(*t) == to_json(*r), "tight limits decoded differently");
    for (const std::string* s : {&t->id, &t->action, &t->from, &t->user, &t->reply_to})
      FUZZ_CHECK(s->size() <= tight.max_string, "a string longer than max_string passed");
  }
  return 0;
}
