#include "agent/docker_client.hpp"

#include "agent/agent_metrics.hpp"

#include "agent/docker_grammar.hpp"

#include <curl/curl.h>
#include <sys/stat.h>

#include <charconv>
#include <mutex>
#include <stdexcept>

namespace dockmesh::agent {
namespace {

using common::errc;
using common::make_error;

std::once_flag g_curl_init;

CURL* handle(void* p) {
  return static_cast<CURL*>(p);
}

std::pair<int, int> parse_version(std::string_view v) {
  int major = 0, minor = 0;
  auto dot = v.find('.');
  if (dot == std::string_view::npos) return {0, 0};
  auto r1 = std::from_chars(v.data(), v.data() + dot, major);
  auto r2 = std::from_chars(v.data() + dot + 1, v.data() + v.size(), minor);
  if (r1.ec != std::errc() || r2.ec != std::errc()) return {0, 0};
  return {major, minor};
}

// Connection-level failures mean "dockerd is not there (any more)"; the caller may retry later.
common::error curl_error(CURLcode code, const std::string& socket, const char* detail) {
  std::string why = detail[0] ? detail : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST: {
      // libcurl's own text talks about "port 80"; say what is wrong with the socket instead.
      struct stat st {};
      std::string what = ::stat(socket.c_str(), &st) != 0 ? "the socket does not exist"
                         : S_ISSOCK(st.st_mode)           ? "nothing accepts connections on it"
                                                          : "it is not a socket";
      return make_error(errc::unavailable, "dockerd is not reachable at " + socket + ": " + what);
    }
    case CURLE_OPERATION_TIMEDOUT:
      return make_error(errc::timeout, "dockerd did not answer in time (" + why + ")");
    case CURLE_ABORTED_BY_CALLBACK:
      return make_error(errc::unavailable, "Docker call cancelled: the agent is stopping");
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
      return make_error(errc::unavailable, "dockerd closed the connection (" + why + ")");
    default:
      return make_error(errc::internal, "Docker API call failed: " + why);
  }
}

}  // namespace

std::string_view to_string(http_method m) {
  switch (m) {
    case http_method::get:
      return "GET";
    case http_method::post:
      return "POST";
    case http_method::del:
      return "DELETE";
    case http_method::head:
      return "HEAD";
  }
  return "GET";
}

int compare_api_versions(std::string_view a, std::string_view b) {
  auto va = parse_version(a), vb = parse_version(b);
  return va < vb ? -1 : (va > vb ? 1 : 0);
}

std::string docker_error_message(std::string_view body, int status) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string() &&
      !j["message"].get_ref<const std::string&>().empty())
    return j["message"].get<std::string>();
  // Not Docker's JSON: quote the text, made valid UTF-8 (it travels back in a reply).
  std::string text = to_valid_utf8(body.substr(0, 500));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  return text.empty() ? "Docker answered HTTP " + std::to_string(status) : text;
}

// State of one transfer, reached from libcurl's C callbacks through a pointer.
struct docker_client::transfer {
  CURL* curl = nullptr;
  const chunk_sink* sink = nullptr;
  std::size_t max_body = 0;
  std::string body;
  bool too_large = false;
  bool stopped_by_sink = false;
  const std::atomic<bool>* cancel = nullptr;
  curl_slist* headers = nullptr;
  std::string url;
  ~transfer() { curl_slist_free_all(headers); }

  long status() const {
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }

  static size_t on_write(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<transfer*>(self);
    std::string_view piece(data, size * n);
    // A streamed error body is kept whole for its message; a success body goes to the sink.
    if (t->sink && t->status() < 300) {
      if (!(*t->sink)(piece)) {
        t->stopped_by_sink = true;
        return 0;
      }
      return piece.size();
    }
    if (t->body.size() + piece.size() > t->max_body) {
      t->too_large = true;
      return 0;
    }
    t->body.append(piece);
    return piece.size();
  }

  static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<transfer*>(self);
    return t->cancel && t->cancel->load() ? 1 : 0;
  }
};

docker_client::docker_client(docker_client_options options) : options_(std::move(options)) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  if (!curl_) throw std::runtime_error("libcurl could not create a handle");
}

docker_client::~docker_client() {
  curl_easy_cleanup(handle(curl_));
}

void docker_client::prepare(transfer& t, const docker_request& request, bool versioned) {
  CURL* c = handle(curl_);
  // reset() keeps the live connection: only the options go back to their defaults.
  curl_easy_reset(c);
  t.curl = c;
  t.url = "http://docker" + (versioned ? "/v" + api_version_ : std::string()) + request.path;
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, options_.socket_path.c_str());
  curl_easy_setopt(c, CURLOPT_URL, t.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &transfer::on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &transfer::on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  auto timeout = request.timeout.count() > 0 ? request.timeout
                 : t.sink                    ? std::chrono::milliseconds(0)
                                             : options_.default_timeout;
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  switch (request.method) {
    case http_method::get:
      break;
    case http_method::head:
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
      break;
    case http_method::post:
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
      break;
    case http_method::del:
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
      break;
  }
  t.headers = curl_slist_append(t.headers, "Expect:");
  if (!request.body.empty())
    t.headers = curl_slist_append(t.headers, "Content-Type: application/json");
  for (const auto& h : request.headers) t.headers = curl_slist_append(t.headers, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, t.headers);
}

result<docker_response> docker_client::perform(const docker_request& request,
                                               const chunk_sink* sink, bool versioned) {
  auto started = std::chrono::steady_clock::now();
  auto r = perform_once(request, sink, versioned);
  agent_metrics::get().docker_call(
      request.method, request.path, docker_outcome(r),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return r;
}

result<docker_response> docker_client::perform_once(const docker_request& request,
                                                    const chunk_sink* sink, bool versioned) {
  transfer t;
  t.sink = sink;
  t.cancel = options_.cancel;
  t.max_body = sink ? 64 * 1024 : options_.max_body_bytes;
  prepare(t, request, versioned);
  char detail[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(t.curl, CURLOPT_ERRORBUFFER, detail);
  CURLcode rc = curl_easy_perform(t.curl);
  curl_easy_setopt(t.curl, CURLOPT_ERRORBUFFER, nullptr);
  if (t.too_large)
    return make_error(errc::too_large,
                      "Docker's answer is over " + std::to_string(t.max_body) + " bytes");
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.stopped_by_sink)) {
    if (rc != CURLE_OPERATION_TIMEDOUT && rc != CURLE_ABORTED_BY_CALLBACK) api_version_.clear();
    return curl_error(rc, options_.socket_path, detail);
  }
  int status = static_cast<int>(t.status());
  if (status >= 400) {
    auto code = common::from_status(status);
    if (status == 500) code = errc::internal;
    return make_error(code, docker_error_message(t.body, status));
  }
  return docker_response{status, std::move(t.body)};
}

result<std::string> docker_client::negotiate() {
  auto r = perform(docker_request{http_method::get, "/version", {}, {}, {}}, nullptr, false);
  if (!r) return r.err();
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("ApiVersion") || !j["ApiVersion"].is_string())
    return make_error(
        errc::unavailable,
        options_.socket_path + " answered /version without an ApiVersion: not a Docker daemon?");
  std::string server = j["ApiVersion"].get<std::string>();
  std::string min = j.contains("MinAPIVersion") && j["MinAPIVersion"].is_string()
                        ? j["MinAPIVersion"].get<std::string>()
                        : std::string("1.12");
  if (compare_api_versions(min, max_docker_api_version) > 0)
    return make_error(errc::unavailable, "dockerd needs API >= " + min +
                                             ", the agent speaks up to " +
                                             std::string(max_docker_api_version));
  api_version_ = compare_api_versions(server, max_docker_api_version) < 0
                     ? server
                     : std::string(max_docker_api_version);
  version_info_ = std::move(j);
  return api_version_;
}

result<docker_response> docker_client::ensure_negotiated_then(const docker_request& request,
                                                              const chunk_sink* sink) {
  if (api_version_.empty()) {
    auto v = negotiate();
    if (!v) return v.err();
  }
  return perform(request, sink, true);
}

result<docker_response> docker_client::call(const docker_request& request) {
  return ensure_negotiated_then(request, nullptr);
}

result<docker_response> docker_client::stream(const docker_request& request,
                                              const chunk_sink& sink) {
  return ensure_negotiated_then(request, &sink);
}

}  // namespace dockmesh::agent
