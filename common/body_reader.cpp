#include "common/body_reader.hpp"

namespace dockmesh::common {

using nlohmann::json;

std::string json_type_name(const json& j) {
  if (j.is_number_integer()) return "an integer";
  if (j.is_number()) return "a number";
  return std::string(j.is_object() ? "an object" : j.is_array() ? "an array" : j.type_name());
}

namespace {
const json& empty_object() {
  static const json empty = json::object();
  return empty;
}
}  // namespace

body_reader::body_reader(const json& body, std::span<const std::string_view> fields,
                         std::string prefix)
    : body_(body.is_null() ? empty_object() : body), prefix_(std::move(prefix)) {
  if (!body_.is_object()) {
    fail(prefix_.empty()
             ? "the request body must be a JSON object, got " + json_type_name(body)
             : "field '" + prefix_ + "' must be an object, got " + json_type_name(body));
    return;
  }
  check_known(fields);
}

void body_reader::check_known(std::span<const std::string_view> fields) {
  for (const auto& [key, value] : body_.items()) {
    bool known = false;
    for (auto f : fields) known = known || f == key;
    if (known) continue;
    std::string list;
    for (auto f : fields) list += (list.empty() ? "" : ", ") + std::string(f);
    fail("unknown field '" + name(key) + "'" +
         (list.empty() ? " (this action takes none)" : " (known: " + list + ")"));
    return;
  }
}

const json* body_reader::get(std::string_view key, bool required) {
  if (err_) return nullptr;
  auto it = body_.find(std::string(key));
  if (it == body_.end() || it->is_null()) {
    if (required) fail("field '" + name(key) + "' is required");
    return nullptr;
  }
  return &*it;
}

void body_reader::str(std::string_view key, std::string& out, bool required, std::size_t max) {
  const json* j = get(key, required);
  if (!j) return;
  if (!j->is_string()) return wrong_type(key, "a string", *j);
  const auto& s = j->get_ref<const std::string&>();
  if (s.size() > max)
    return fail("field '" + name(key) + "' is longer than " + std::to_string(max) + " bytes");
  if (required && s.empty()) return fail("field '" + name(key) + "' must not be empty");
  out = s;
}

void body_reader::boolean(std::string_view key, bool& out) {
  const json* j = get(key);
  if (!j) return;
  if (!j->is_boolean()) return wrong_type(key, "true or false", *j);
  out = j->get<bool>();
}

void body_reader::integer(std::string_view key, std::int64_t& out, std::int64_t min,
                          std::int64_t max) {
  const json* j = get(key);
  if (!j) return;
  if (!j->is_number_integer()) return wrong_type(key, "an integer", *j);
  if (j->is_number_unsigned() && j->get<std::uint64_t>() > static_cast<std::uint64_t>(max))
    return range(key, min, max);
  auto v = j->get<std::int64_t>();
  if (v < min || v > max) return range(key, min, max);
  out = v;
}

void body_reader::number(std::string_view key, double& out, double min, double max) {
  const json* j = get(key);
  if (!j) return;
  if (!j->is_number()) return wrong_type(key, "a number", *j);
  double v = j->get<double>();
  if (!(v >= min && v <= max))
    return fail("field '" + name(key) + "' must be between " + std::to_string(min) + " and " +
                std::to_string(max));
  out = v;
}

void body_reader::str_list(std::string_view key, std::vector<std::string>& out,
                           std::size_t max_items, std::size_t max_len) {
  const json* j = get(key);
  if (!j) return;
  if (!j->is_array()) return wrong_type(key, "an array of strings", *j);
  if (j->size() > max_items)
    return fail("field '" + name(key) + "' has more than " + std::to_string(max_items) + " items");
  std::vector<std::string> v;
  for (std::size_t i = 0; i < j->size(); ++i) {
    const json& e = (*j)[i];
    std::string item = name(key) + "[" + std::to_string(i) + "]";
    if (!e.is_string())
      return fail("field '" + item + "' must be a string, got " + json_type_name(e));
    if (e.get_ref<const std::string&>().size() > max_len)
      return fail("field '" + item + "' is longer than " + std::to_string(max_len) + " bytes");
    v.push_back(e.get<std::string>());
  }
  out = std::move(v);
}

void body_reader::opt_str_list(std::string_view key, std::optional<std::vector<std::string>>& out) {
  if (!get(key)) return;
  std::vector<std::string> v;
  str_list(key, v);
  if (!err_) out = std::move(v);
}

void body_reader::str_map(std::string_view key, std::map<std::string, std::string>& out,
                          std::size_t max_items, std::size_t max_len) {
  const json* j = get(key);
  if (!j) return;
  if (!j->is_object()) return wrong_type(key, "an object of strings", *j);
  if (j->size() > max_items)
    return fail("field '" + name(key) + "' has more than " + std::to_string(max_items) +
                " entries");
  for (const auto& [k, v] : j->items()) {
    std::string item = name(key) + "." + k;
    if (!v.is_string())
      return fail("field '" + item + "' must be a string, got " + json_type_name(v));
    if (v.get_ref<const std::string&>().size() > max_len)
      return fail("field '" + item + "' is longer than " + std::to_string(max_len) + " bytes");
    out[k] = v.get<std::string>();
  }
}

std::string body_reader::name(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

void body_reader::fail(std::string message) {
  if (!err_) err_ = make_error(errc::invalid_argument, std::move(message));
}

void body_reader::adopt(const error& e) {
  if (!err_) err_ = e;
}

void body_reader::wrong_type(std::string_view key, std::string_view want, const json& got) {
  fail("field '" + name(key) + "' must be " + std::string(want) + ", got " + json_type_name(got));
}

void body_reader::range(std::string_view key, std::int64_t min, std::int64_t max) {
  fail("field '" + name(key) + "' must be between " + std::to_string(min) + " and " +
       std::to_string(max));
}

}  // namespace dockmesh::common
