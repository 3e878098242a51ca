// Fuzz target: common::parse_topic and the topic builders. Properties: parsing never crashes;
// a parsed topic prints back to exactly the input, and rebuilding it from (kind, name) gives the
// same string; and the invariant the whole bus relies on for subscriptions: of two different
// valid topics, neither is a prefix of the other (`req/host/a/` never matches `req/host/ab/`).
// Input: two topics separated by a NUL byte.
#include <cstdint>
#include <string>

#include "common/topic.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace dockmesh::common;

namespace {

void check_one(std::string_view s, bool ok, const result<topic>& t) {
  if (!ok) {
    FUZZ_CHECK(!t.err().message.empty(), "refusal without a message");
    FUZZ_CHECK(dockmesh::fuzz::quote_keeps_utf8(s, t.err().message),
               "refusal of a UTF-8 topic is not UTF-8: " + t.err().message);
    return;
  }
  FUZZ_CHECK(t->str() == s, "parsed topic does not print back to its input");
  FUZZ_CHECK(!s.empty() && s.back() == '/', "a valid topic that does not end in '/'");
  auto rebuilt = make_topic(t->kind, t->name);
  FUZZ_CHECK(rebuilt.ok() && rebuilt->str() == s, "make_topic disagrees with parse_topic");
  if (!t->name.empty()) FUZZ_CHECK(valid_segment(t->name), "named topic with an invalid segment");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dockmesh::fuzz::byte_reader in(data, size);
  std::string_view a = in.until_nul(), b = in.rest();
  auto ta = parse_topic(a), tb = parse_topic(b);
  check_one(a, ta.ok(), ta);
  check_one(b, tb.ok(), tb);
  if (ta.ok() && tb.ok() && a != b) {
    FUZZ_CHECK(b.substr(0, a.size()) != a, "a valid topic is a prefix of another");
    FUZZ_CHECK(a.substr(0, b.size()) != b, "a valid topic is a prefix of another");
  }
  // The segment validator and the builders agree for every kind.
  bool seg = valid_segment(a);
  for (auto k : {topic_kind::req_host, topic_kind::rep, topic_kind::evt_host}) {
    auto t = make_topic(k, a);
    FUZZ_CHECK(t.ok() == seg, "make_topic and valid_segment disagree");
    if (t.ok()) {
      auto back = parse_topic(t->str());
      FUZZ_CHECK(back.ok() && back->kind == k && back->name == a,
                 "built topic does not parse back");
    }
  }
  return 0;
}
