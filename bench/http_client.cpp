#include "bench/http_client.hpp"

#include <curl/curl.h>

#include <stdexcept>

namespace dockmesh::bench {
namespace {

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

http_client::http_client(std::string unix_socket, std::string base_url)
    : curl_(curl_easy_init()), base_url_(std::move(base_url)) {
  if (!curl_) throw std::runtime_error("curl_easy_init failed");
  CURL* c = static_cast<CURL*>(curl_);
  if (!unix_socket.empty()) curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, unix_socket.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
  set_header("Content-Type: application/json");
  set_header("Expect:");  // no 100-continue round trip on POST
}

http_client::~http_client() {
  curl_slist_free_all(headers_);
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void http_client::set_header(const std::string& line) {
  headers_ = curl_slist_append(headers_, line.c_str());
}

common::result<http_response> http_client::call(const std::string& method, const std::string& path,
                                                const std::string& json_body,
                                                std::chrono::milliseconds timeout) {
  CURL* c = static_cast<CURL*>(curl_);
  http_response r;
  std::string url = base_url_ + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  if (method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(json_body.size()));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method == "POST" ? nullptr : method.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK)
    return common::make_error(
        rc == CURLE_OPERATION_TIMEDOUT ? common::errc::timeout : common::errc::unavailable,
        method + " " + path + ": " + curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

}  // namespace dockmesh::bench
