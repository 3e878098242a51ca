// http_reply: the HTTP types the bridge uses (Beast string bodies) and the one place that builds
// JSON responses, including the error shape every endpoint shares:
//   {"error": {"code": "<errc name>", "message": "<what went wrong>"}}
// with the HTTP status that goes with the errc. Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace dockmesh::bridge {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

http_response json_response(const http_request& req, http::status status,
                            const nlohmann::json& body);
http_response error_response(const http_request& req, http::status status, std::string_view code,
                             std::string_view message);
http_response error_response(const http_request& req, const common::error& e);
// 303 See Other / 202 Accepted with a Location header and a JSON body.
http_response redirect_response(const http_request& req, http::status status,
                                const std::string& location, const nlohmann::json& body);

// The status for an errc (to_status, with too_large as 413 at HTTP).
http::status http_status_for(common::errc code);
// Beast (Boost 1.74) has its own string_view; the rest of dockmesh uses std's.
inline std::string_view to_std(boost::beast::string_view s) {
  return {s.data(), s.size()};
}
nlohmann::json error_json(std::string_view code, std::string_view message);
// Headers every response carries (no sniffing, no framing, same-origin scripts only).
void add_security_headers(http_response& res);

}  // namespace dockmesh::bridge
