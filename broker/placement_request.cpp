// Parsing of the scheduling fields of a create-container body (declared in scheduler.hpp).
#include "broker/scheduler.hpp"
#include "common/topic.hpp"

namespace dockmesh::broker {
namespace {

using common::errc;
using common::make_error;
using nlohmann::json;

common::error bad(std::string what) {
  return make_error(errc::invalid_argument, std::move(what));
}

common::result<void> read_strings(const json& body, const char* field,
                                  std::vector<std::string>& out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_array() || it->size() > 10000)
    return bad(std::string(field) + " must be a list of strings");
  for (const auto& s : *it) {
    if (!s.is_string()) return bad(std::string(field) + " must be a list of strings");
    out.push_back(s.get<std::string>());
  }
  return {};
}

common::result<void> read_strategy(const json& body, placement_request& r) {
  auto it = body.find("strategy");
  if (it == body.end() || it->is_null()) return {};
  std::string s = it->is_string() ? it->get<std::string>() : std::string();
  if (s == "spread")
    r.how = strategy::spread;
  else if (s == "binpack")
    r.how = strategy::binpack;
  else if (s == "random")
    r.how = strategy::random;
  else
    return bad("strategy must be spread, binpack or random");
  return {};
}

common::result<void> read_numbers(const json& body, placement_request& r) {
  if (auto it = body.find("instances"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
        it->get<std::int64_t>() > max_instances)
      return bad("instances must be an integer from 1 to " + std::to_string(max_instances));
    r.instances = it->get<int>();
  }
  if (auto it = body.find("memory"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
      return bad("memory must be a number of bytes");
    r.memory = it->get<std::int64_t>();
  }
  if (auto it = body.find("unique"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return bad("unique must be true or false");
    r.unique = it->get<bool>();
  }
  return {};
}

}  // namespace

common::result<constraint> parse_constraint(std::string_view text) {
  auto op = text.find("==");
  bool equal = true;
  if (op == std::string_view::npos) {
    op = text.find("!=");
    equal = false;
  }
  if (op == std::string_view::npos || op == 0)
    return bad("constraint '" + std::string(text) + "' must look like key==value or key!=value");
  return constraint{std::string(text.substr(0, op)), equal, std::string(text.substr(op + 2))};
}

common::result<placement_request> parse_placement_request(const json& body) {
  if (!body.is_object()) return bad("create-container needs a body");
  placement_request r;
  if (auto it = body.find("image"); it != body.end() && it->is_string())
    r.image = normalize_image(it->get<std::string>());
  else if (auto t = body.find("template"); t != body.end() && t->is_string())
    r.image = "template:" + t->get<std::string>();
  if (auto s = read_numbers(body, r); !s) return s.err();
  if (auto s = read_strategy(body, r); !s) return s.err();
  std::vector<std::string> constraints;
  if (auto s = read_strings(body, "constraints", constraints); !s) return s.err();
  for (const auto& c : constraints) {
    auto parsed = parse_constraint(c);
    if (!parsed) return parsed.err();
    r.constraints.push_back(std::move(*parsed));
  }
  if (auto s = read_strings(body, "candidates", r.candidates); !s) return s.err();
  for (const auto& c : r.candidates)
    if (!common::valid_segment(c)) return bad("candidates: '" + c + "' is not a host name");
  if (r.unique && r.image.empty()) return bad("unique needs an image or a template");
  return r;
}

json strip_scheduling_fields(json body) {
  if (body.is_object())
    for (const char* f : {"constraints", "candidates", "strategy", "unique"}) body.erase(f);
  return body;
}

std::string normalize_image(std::string_view image) {
  std::string s(image);
  if (s.find('@') != std::string::npos) return s;
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) s += ":latest";
  return s;
}

}  // namespace dockmesh::broker
