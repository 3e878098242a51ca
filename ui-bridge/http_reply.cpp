#include "ui-bridge/http_reply.hpp"

namespace dockmesh::bridge {

void add_security_headers(http_response& res) {
  res.set(http::field::server, "dockmesh-bridge");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Content-Security-Policy",
          "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
}

http_response json_response(const http_request& req, http::status status,
                            const nlohmann::json& body) {
  http_response res{status, req.version()};
  add_security_headers(res);
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  // Replies relay Docker output, which is not always valid UTF-8: replace, never throw.
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  res.prepare_payload();
  return res;
}

nlohmann::json error_json(std::string_view code, std::string_view message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

http_response error_response(const http_request& req, http::status status, std::string_view code,
                             std::string_view message) {
  return json_response(req, status, error_json(code, message));
}

http::status http_status_for(common::errc code) {
  if (code == common::errc::too_large) return http::status::payload_too_large;
  return static_cast<http::status>(common::to_status(code));
}

http_response error_response(const http_request& req, const common::error& e) {
  return error_response(req, http_status_for(e.code), common::to_string(e.code), e.message);
}

http_response redirect_response(const http_request& req, http::status status,
                                const std::string& location, const nlohmann::json& body) {
  auto res = json_response(req, status, body);
  res.set(http::field::location, location);
  return res;
}

}  // namespace dockmesh::bridge
