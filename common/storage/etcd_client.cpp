#include "common/storage/etcd_client.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <stdexcept>

namespace dockmesh::common {
namespace {

using nlohmann::json;

CURL* handle(void* p) {
  return static_cast<CURL*>(p);
}

// The gateway writes 64-bit integers as strings and leaves out zero values.
std::int64_t number(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) return 0;
  try {
    return std::stoll(it->get<std::string>());
  } catch (const std::exception&) {
    return 0;
  }
}

std::string b64_field(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return {};
  auto d = base64_decode(it->get<std::string>());
  return d ? *d : std::string();
}

etcd_kv kv_from(const json& j) {
  return {b64_field(j, "key"), b64_field(j, "value"), number(j, "create_revision"),
          number(j, "mod_revision"), number(j, "lease")};
}

std::vector<etcd_kv> kvs_from(const json& j) {
  std::vector<etcd_kv> out;
  auto it = j.find("kvs");
  if (it != j.end() && it->is_array())
    for (const auto& kv : *it) out.push_back(kv_from(kv));
  return out;
}

std::int64_t header_revision(const json& j) {
  auto h = j.find("header");
  return h != j.end() && h->is_object() ? number(*h, "revision") : 0;
}

std::size_t collect_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct stream_state {
  std::string buffer;
  const etcd_client::events_fn* on_events;
  const std::atomic<bool>* stop;
  std::chrono::steady_clock::time_point until;
  bool failed = false;
  std::string why;
};

// One JSON object per line: {"result": {"header": ..., "events": [...]}} or {"error": ...}.
void stream_line(stream_state& s, std::string_view line) {
  auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return;
  if (j.contains("error")) {
    s.failed = true;
    s.why = j["error"].dump().substr(0, 200);
    return;
  }
  const json& r = j.value("result", json::object());
  if (r.value("canceled", false)) {
    s.failed = true;
    s.why = "watch canceled (compacted?)";
    return;
  }
  std::vector<etcd_event> events;
  if (auto ev = r.find("events"); ev != r.end() && ev->is_array())
    for (const auto& e : *ev)
      events.push_back({e.value("type", "") == "DELETE", kv_from(e.value("kv", json::object()))});
  (*s.on_events)(events, header_revision(r));
}

std::size_t stream_body(char* data, std::size_t size, std::size_t n, void* p) {
  auto& s = *static_cast<stream_state*>(p);
  s.buffer.append(data, size * n);
  for (auto nl = s.buffer.find('\n'); nl != std::string::npos; nl = s.buffer.find('\n')) {
    stream_line(s, std::string_view(s.buffer).substr(0, nl));
    s.buffer.erase(0, nl + 1);
  }
  if (s.buffer.size() > 16 * 1024 * 1024) return 0;  // a line that never ends: give up
  return s.failed ? 0 : size * n;
}

int stream_progress(void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& s = *static_cast<stream_state*>(p);
  return s.stop->load() || std::chrono::steady_clock::now() >= s.until ? 1 : 0;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

common::result<std::string> base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return make_error(errc::malformed, "not base64");
  out.resize(len);
  return out;
}

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(end.back() + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

std::vector<std::string> parse_etcd_endpoints(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string one(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!one.empty() && one.back() == '/') one.pop_back();
    if (one.rfind("http://", 0) != 0 || one.size() <= 7)
      throw std::runtime_error("--etcd: '" + one + "' is not an http://HOST:PORT URL");
    out.push_back(std::move(one));
  }
  if (out.empty()) throw std::runtime_error("--etcd needs at least one http://HOST:PORT URL");
  return out;
}

etcd_client::etcd_client(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : curl_(curl_easy_init()), endpoints_(std::move(endpoints)), timeout_(timeout) {
  if (!curl_ || endpoints_.empty())
    throw std::runtime_error("etcd client: no curl handle or no endpoint");
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

etcd_client::~etcd_client() {
  curl_easy_cleanup(handle(curl_));
}

common::result<json> etcd_client::call_one(const std::string& url, const std::string& body) {
  CURL* c = handle(curl_);
  curl_easy_reset(c);
  std::string answer;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) return make_error(errc::unavailable, url + ": " + curl_easy_strerror(rc));
  auto j = json::parse(answer, nullptr, false);
  if (status >= 500 || status == 0)
    return make_error(errc::unavailable, url + ": HTTP " + std::to_string(status));
  if (j.is_discarded() || !j.is_object())
    return make_error(errc::malformed, url + ": answer is not a JSON object");
  if (status != 200)
    return make_error(errc::invalid_argument,
                      url + ": HTTP " + std::to_string(status) + " " + j.dump().substr(0, 200));
  return j;
}

common::result<json> etcd_client::call(std::string_view path, const json& body) {
  std::string text = body.dump();
  common::error last{errc::unavailable, "no etcd endpoint"};
  for (std::size_t tried = 0; tried < endpoints_.size(); ++tried) {
    auto r = call_one(endpoints_[current_] + std::string(path), text);
    if (r || r.err().code != errc::unavailable) return r;
    last = r.err();
    current_ = (current_ + 1) % endpoints_.size();  // fail over
  }
  return last;
}

common::result<etcd_range> etcd_client::range(std::string_view key, bool prefix) {
  json body = {{"key", base64_encode(key)}};
  if (prefix) body["range_end"] = base64_encode(prefix_end(key));
  auto j = call("/v3/kv/range", body);
  if (!j) return j.err();
  return etcd_range{kvs_from(*j), header_revision(*j)};
}

common::result<std::int64_t> etcd_client::put(std::string_view key, std::string_view value,
                                              std::int64_t lease) {
  json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease) body["lease"] = std::to_string(lease);
  auto j = call("/v3/kv/put", body);
  if (!j) return j.err();
  return header_revision(*j);
}

common::result<etcd_txn> etcd_client::create_if_absent(std::string_view key, std::string_view value,
                                                       std::int64_t lease) {
  json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease) put["lease"] = std::to_string(lease);
  json compare = {{"key", base64_encode(key)},
                  {"target", "CREATE"},
                  {"result", "EQUAL"},
                  {"create_revision", "0"}};
  return put_unless_changed(compare, put);
}

common::result<etcd_txn> etcd_client::put_if_revision(std::string_view key, std::string_view value,
                                                      std::int64_t mod_revision) {
  if (mod_revision == 0) return create_if_absent(key, value);
  json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  json compare = {{"key", base64_encode(key)},
                  {"target", "MOD"},
                  {"result", "EQUAL"},
                  {"mod_revision", std::to_string(mod_revision)}};
  return put_unless_changed(compare, put);
}

common::result<etcd_txn> etcd_client::put_unless_changed(const json& compare,
                                                         const json& request_put) {
  json key = request_put.at("key");
  json body = {{"compare", json::array({compare})},
               {"success", json::array({{{"request_put", request_put}}})},
               {"failure", json::array({{{"request_range", {{"key", key}}}}})}};
  auto j = call("/v3/kv/txn", body);
  if (!j) return j.err();
  etcd_txn t{j->value("succeeded", false), header_revision(*j), {}};
  if (!t.succeeded)
    if (auto rs = j->find("responses"); rs != j->end() && rs->is_array() && !rs->empty())
      t.kvs = kvs_from((*rs)[0].value("response_range", json::object()));
  return t;
}

common::result<bool> etcd_client::delete_if_present(std::string_view key) {
  json body = {
      {"compare", json::array({{{"key", base64_encode(key)},
                                {"target", "CREATE"},
                                {"result", "GREATER"},
                                {"create_revision", "0"}}})},
      {"success", json::array({{{"request_delete_range", {{"key", base64_encode(key)}}}}})}};
  auto j = call("/v3/kv/txn", body);
  if (!j) return j.err();
  return j->value("succeeded", false);
}

common::result<bool> etcd_client::spend_and_put(std::string_view spent, std::string_view key,
                                                std::string_view value) {
  json body = {{"compare", json::array({{{"key", base64_encode(spent)},
                                         {"target", "CREATE"},
                                         {"result", "GREATER"},
                                         {"create_revision", "0"}}})},
               {"success",
                json::array({{{"request_delete_range", {{"key", base64_encode(spent)}}}},
                             {{"request_put",
                               {{"key", base64_encode(key)}, {"value", base64_encode(value)}}}}})}};
  auto j = call("/v3/kv/txn", body);
  if (!j) return j.err();
  return j->value("succeeded", false);
}

namespace {

json compare_value(std::string_view key, std::string_view value) {
  return {{"key", base64_encode(key)},
          {"target", "VALUE"},
          {"result", "EQUAL"},
          {"value", base64_encode(value)}};
}

json put_request(std::string_view key, std::string_view value) {
  return {{"request_put", {{"key", base64_encode(key)}, {"value", base64_encode(value)}}}};
}

}  // namespace

common::result<std::string> etcd_client::put_claimed(std::string_view name, std::string_view holder,
                                                     std::string_view key, std::string_view value) {
  // Held already (every write after the first): the record alone, while the name stays ours.
  json held = {{"compare", json::array({compare_value(name, holder)})},
               {"success", json::array({put_request(key, value)})},
               {"failure", json::array({{{"request_range", {{"key", base64_encode(name)}}}}})}};
  auto j = call("/v3/kv/txn", held);
  if (!j) return j.err();
  if (j->value("succeeded", false)) return std::string();
  // Free: claim it and write the record in one transaction.
  json claim = {{"compare", json::array({{{"key", base64_encode(name)},
                                          {"target", "CREATE"},
                                          {"result", "EQUAL"},
                                          {"create_revision", "0"}}})},
                {"success", json::array({put_request(name, holder), put_request(key, value)})},
                {"failure", json::array({{{"request_range", {{"key", base64_encode(name)}}}}})}};
  j = call("/v3/kv/txn", claim);
  if (!j) return j.err();
  if (j->value("succeeded", false)) return std::string();
  auto rs = j->find("responses");
  if (rs != j->end() && rs->is_array() && !rs->empty()) {
    auto kvs = kvs_from((*rs)[0].value("response_range", json::object()));
    if (!kvs.empty()) {
      if (kvs.front().value == holder) return std::string();  // claimed by us meanwhile: a retry
      return kvs.front().value;
    }
  }
  return make_error(errc::unavailable, "the name's claim kept changing");
}

common::result<void> etcd_client::erase_claimed(std::string_view name, std::string_view holder,
                                                std::string_view key) {
  json erase_key = {{"request_delete_range", {{"key", base64_encode(key)}}}};
  json body = {
      {"compare", json::array({compare_value(name, holder)})},
      {"success",
       json::array({erase_key, {{"request_delete_range", {{"key", base64_encode(name)}}}}})},
      {"failure", json::array({erase_key})}};
  auto j = call("/v3/kv/txn", body);
  if (!j) return j.err();
  return {};
}

common::result<std::int64_t> etcd_client::erase(std::string_view key) {
  auto j = call("/v3/kv/deleterange", {{"key", base64_encode(key)}});
  if (!j) return j.err();
  return number(*j, "deleted");
}

common::result<etcd_lease> etcd_client::lease_grant(std::int64_t ttl_seconds) {
  auto j = call("/v3/lease/grant", {{"TTL", std::to_string(ttl_seconds)}});
  if (!j) return j.err();
  etcd_lease l{number(*j, "ID"), number(*j, "TTL")};
  if (!l.id) return make_error(errc::unavailable, "lease grant: " + j->value("error", "no ID"));
  return l;
}

common::result<etcd_lease> etcd_client::lease_keepalive(std::int64_t id) {
  // The gateway answers one keep-alive per request body: {"result": {"ID", "TTL"}}.
  auto j = call("/v3/lease/keepalive", {{"ID", std::to_string(id)}});
  if (!j) return j.err();
  const json& r = j->value("result", json::object());
  return etcd_lease{id, number(r, "TTL")};
}

common::result<void> etcd_client::lease_revoke(std::int64_t id) {
  auto j = call("/v3/lease/revoke", {{"ID", std::to_string(id)}});
  if (!j) return j.err();
  return {};
}

common::result<void> etcd_client::watch(std::string_view prefix, std::int64_t start_revision,
                                        const events_fn& on_events, const std::atomic<bool>& stop,
                                        std::chrono::milliseconds max_duration) {
  json create = {{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_end(prefix))}};
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  std::string body = json{{"create_request", create}}.dump();
  stream_state s{{}, &on_events, &stop, std::chrono::steady_clock::now() + max_duration, false, {}};
  CURL* c = handle(curl_);
  curl_easy_reset(c);
  std::string url = endpoint() + "/v3/watch";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, stream_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c);
  bool ended_by_us = rc == CURLE_ABORTED_BY_CALLBACK && !s.failed;
  if (s.failed) return make_error(errc::unavailable, url + ": " + s.why);
  if (rc != CURLE_OK && !ended_by_us) {
    current_ = (current_ + 1) % endpoints_.size();  // the next stream tries another member
    return make_error(errc::unavailable, url + ": " + curl_easy_strerror(rc));
  }
  return {};
}

}  // namespace dockmesh::common
