#include "common/result.hpp"

namespace dockmesh::common {

std::string_view to_string(errc code) {
  switch (code) {
    case errc::malformed:
      return "malformed";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::too_large:
      return "too_large";
    case errc::unauthorized:
      return "unauthorized";
    case errc::forbidden:
      return "forbidden";
    case errc::not_found:
      return "not_found";
    case errc::conflict:
      return "conflict";
    case errc::unavailable:
      return "unavailable";
    case errc::timeout:
      return "timeout";
    case errc::internal:
      return "internal";
  }
  return "internal";
}

int to_status(errc code) {
  switch (code) {
    case errc::malformed:
    case errc::invalid_argument:
    case errc::too_large:
      return 400;
    case errc::unauthorized:
      return 401;
    case errc::forbidden:
      return 403;
    case errc::not_found:
      return 404;
    case errc::conflict:
      return 409;
    case errc::unavailable:
      return 503;
    case errc::timeout:
      return 504;
    case errc::internal:
      return 500;
  }
  return 500;
}

errc from_status(int status) {
  switch (status) {
    case 400:
      return errc::invalid_argument;
    case 401:
      return errc::unauthorized;
    case 403:
      return errc::forbidden;
    case 404:
      return errc::not_found;
    case 409:
      return errc::conflict;
    case 413:
      return errc::too_large;
    case 503:
      return errc::unavailable;
    case 504:
      return errc::timeout;
    default:
      return errc::internal;
  }
}

}  // namespace dockmesh::common
