// Fuzz target: the bridge's handling of untrusted HTTP request parts before authentication: the
// router (method + path, percent-decoding of path parameters), the query-string parser, and JWT
// verification of a bearer token. Input: a selector byte, then NUL-separated fields.
// Properties: nothing throws or crashes; a decoded path parameter never contains '/' or NUL (it
// becomes a container id, a user name, a host); parse_query never yields an empty key; a token is
// accepted only if it verifies under our key, and every refusal is errc::unauthorized.
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_support.hpp"
#include "ui-bridge/base64url.hpp"
#include "ui-bridge/jwt.hpp"
#include "ui-bridge/router.hpp"

using namespace dockmesh::bridge;

namespace {

const router& api() {
  static const router r = make_api_router();
  return r;
}

const jwt_codec& codec() {
  static const jwt_codec c(std::string(jwt_codec::key_bytes, 'k'));
  return c;
}

void fuzz_route(std::string_view method, std::string_view target) {
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  auto r = api().find(method, path);
  if (r.match) {
    for (const auto& [k, v] : r.match->params) {
      FUZZ_CHECK(!v.empty(), "empty path parameter " + k);
      FUZZ_CHECK(v.find('/') == std::string::npos, "decoded path parameter holds '/'");
      FUZZ_CHECK(v.find('\0') == std::string::npos, "decoded path parameter holds NUL");
    }
  } else if (r.miss == route_miss::method_not_allowed) {
    FUZZ_CHECK(!r.allowed.empty(), "405 without an Allow list");
  }
  if (q != std::string_view::npos) {
    for (const auto& [k, v] : parse_query(target.substr(q + 1)))
      FUZZ_CHECK(!k.empty(), "parse_query yielded an empty key");
  }
}

void fuzz_token(std::string_view token, std::int64_t now) {
  try {
    auto r = codec().verify(token, now);
    if (r.ok()) {
      FUZZ_CHECK(r->is_object() && r->contains("exp"), "accepted claims without exp");
      FUZZ_CHECK(codec().verify(token, now).ok(), "verification is not deterministic");
    } else {
      FUZZ_CHECK(r.err().code == dockmesh::common::errc::unauthorized, "refusal not unauthorized");
    }
  } catch (const std::exception& ex) {
    FUZZ_CHECK(false, std::string("jwt verify threw: ") + ex.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dockmesh::fuzz::byte_reader in(data, size);
  std::uint8_t which = in.byte();
  try {
    switch (which % 4) {
      case 0: {
        std::string_view method = in.until_nul();
        fuzz_route(method, in.rest());
        break;
      }
      case 1:
        fuzz_token(in.rest(), 1700000000);
        break;
      case 2: {
        // A token we signed, with fuzzed claims: must verify iff exp is an integer in the future.
        auto claims = nlohmann::json::parse(in.rest(), nullptr, false);
        if (!claims.is_object()) break;
        std::string t = codec().sign(claims);
        auto r = codec().verify(t, 1700000000);
        auto exp = claims.find("exp");
        bool want = exp != claims.end() && exp->is_number_integer() &&
                    exp->get<std::int64_t>() > 1700000000;
        FUZZ_CHECK(r.ok() == want, "own token verified wrongly");
        break;
      }
      default: {
        std::string_view text = in.rest();
        auto d = base64url_decode(text);
        if (d) FUZZ_CHECK(base64url_decode(base64url_encode(*d)) == d, "base64url round trip");
        auto e = base64url_encode(text);
        FUZZ_CHECK(base64url_decode(e) == std::string(text), "base64url round trip of raw bytes");
        break;
      }
    }
  } catch (const std::exception& ex) {
    FUZZ_CHECK(false, std::string("bridge request parsing threw: ") + ex.what());
  }
  return 0;
}
