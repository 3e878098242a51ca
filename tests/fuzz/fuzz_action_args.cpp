// Fuzz target: common/action_args.hpp, the typed arguments of every bus action, parsed from the
// body of a request envelope. Input: a selector byte choosing the action, then the body as JSON
// text. Properties: parsing never throws; a refusal is errc::invalid_argument with a UTF-8
// message; an accepted body round-trips (parse(to_json(x)) == x, as the header promises).
#include <cstdint>
#include <string>

#include "common/action_args.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace dockmesh::common;

namespace {

template <class T>
void check(result<T> (*parse)(const nlohmann::json&), const nlohmann::json& body) {
  result<T> r = make_error(errc::internal, "not run");
  try {
    r = parse(body);
  } catch (const std::exception& ex) {
    FUZZ_CHECK(false, std::string("argument parser threw: ") + ex.what());
  }
  if (!r.ok()) {
    FUZZ_CHECK(r.err().code == errc::invalid_argument, "refusal is not invalid_argument");
    FUZZ_CHECK(!r.err().message.empty(), "refusal without a message");
    FUZZ_CHECK(dockmesh::fuzz::dumps_as_json(r.err().message), "refusal message is not UTF-8");
    return;
  }
  nlohmann::json j = to_json(*r);
  auto again = parse(j);
  FUZZ_CHECK(again.ok(), "to_json of accepted arguments is refused: " + again.err().message);
  FUZZ_CHECK(*again == *r, "arguments do not round-trip through to_json");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dockmesh::fuzz::byte_reader in(data, size);
  std::uint8_t which = in.byte();
  auto body = nlohmann::json::parse(in.rest(), nullptr, false);
  if (body.is_discarded()) return 0;
  switch (which % 12) {
    case 0:
      check(parse_empty_args, body);
      break;
    case 1:
      check(parse_list_containers_args, body);
      break;
    case 2:
      check(parse_container_ref_args, body);
      break;
    case 3:
      check(parse_stop_container_args, body);
      break;
    case 4:
      check(parse_kill_container_args, body);
      break;
    case 5:
      check(parse_remove_container_args, body);
      break;
    case 6:
      check(parse_container_logs_args, body);
      break;
    case 7:
      check(parse_create_container_args, body);
      break;
    case 8:
      check(parse_list_images_args, body);
      break;
    case 9:
      check(parse_image_ref_args, body);
      break;
    case 10:
      check(parse_pull_image_args, body);
      break;
    default:
      check(parse_remove_image_args, body);
      break;
  }
  return 0;
}
