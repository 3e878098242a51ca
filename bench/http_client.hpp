// http_client: one libcurl easy handle, reused for every call so that the connection stays open
// (HTTP keep-alive), over a unix socket (Docker) or TCP (the bridge). The benchmarks' direct
// baseline and their HTTP path. Owned by bench/; one thread per instance; calls block up to the
// given timeout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.hpp"

struct curl_slist;

namespace dockmesh::bench {

struct http_response {
  long status = 0;
  std::string body;
};

class http_client {
 public:
  // `unix_socket` empty: plain TCP to base_url's host. base_url like "http://docker".
  http_client(std::string unix_socket, std::string base_url);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  void set_header(const std::string& line);  // e.g. "Authorization: Bearer ..."
  common::result<http_response> call(const std::string& method, const std::string& path,
                                     const std::string& json_body = {},
                                     std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  void* curl_;
  curl_slist* headers_ = nullptr;
  std::string base_url_;
};

}  // namespace dockmesh::bench
