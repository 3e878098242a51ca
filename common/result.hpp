// result<T>: the value-or-error type used everywhere in steady state (expected failures are values,
// not exceptions). Expected failures (bad input, dockerd down, timeouts) are values of this type;
// only start-up and configuration errors throw. Header-only, no thread affinity.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dockmesh::common {

// Kinds of failure. Each maps to one HTTP-like status code (to_status) used in bus replies and by
// the bridge, so a failure keeps its meaning from the wrapper's edge all the way to the user.
enum class errc {
  malformed,         // bytes that do not decode (400)
  invalid_argument,  // decodes, but a field is wrong (400)
  too_large,         // over a size or depth bound (400; 413 at HTTP)
  unauthorized,      // no or bad credentials (401)
  forbidden,         // authenticated but not allowed (403)
  not_found,         // (404)
  conflict,          // (409)
  unavailable,       // a dependency (dockerd, broker) is down (503)
  timeout,           // no answer before the deadline (504)
  internal,          // a bug or an unexpected failure (500)
};

std::string_view to_string(errc code);
int to_status(errc code);
errc from_status(int status);

struct error {
  errc code;
  std::string message;
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  result(error e) : v_(std::move(e)) {}      // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error e) : err_(std::move(e)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const error& err() const { return err_; }

 private:
  error err_{errc::internal, {}};
  bool ok_ = true;
};

inline error make_error(errc code, std::string message) {
  return error{code, std::move(message)};
}

}  // namespace dockmesh::common
