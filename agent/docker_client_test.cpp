// docker_client against a scripted HTTP server on a unix socket: negotiation, keep-alive, status
// and CURLcode mapping, timeouts, streaming. The Docker bodies are recorded from dockerd 20.10.
#include "agent/docker_client.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using namespace dockmesh::agent;
using dockmesh::common::errc;

namespace {

struct canned {
  int status = 200;
  std::string body;
  bool chunked = false;
  bool hang = false;  // never answer
};

// Accepts connections on a unix socket and answers each request with the response scripted
// for its path (request line "GET /v1.41/x HTTP/1.1" -> key "GET /v1.41/x").
class fake_dockerd {
 public:
  explicit fake_dockerd(std::map<std::string, canned> script) : script_(std::move(script)) {
    path_ =
        "/tmp/dm-fake-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".sock";
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~fake_dockerd() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (auto& t : conns_) t.join();
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  int connections() const { return connections_; }
  std::vector<std::string> requests() {
    std::lock_guard l(mu_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++connections_;
      conns_.emplace_back([this, c] { handle(c); });
    }
  }
  void handle(int c) {
    std::string buf;
    char tmp[4096];
    for (;;) {
      auto end = buf.find("\r\n\r\n");
      if (end == std::string::npos) {
        ssize_t n = ::read(c, tmp, sizeof tmp);
        if (n <= 0) break;
        buf.append(tmp, static_cast<std::size_t>(n));
        continue;
      }
      std::string head = buf.substr(0, end);
      std::size_t len = 0;
      if (auto p = head.find("Content-Length: "); p != std::string::npos)
        len = std::stoul(head.substr(p + 16));
      while (buf.size() < end + 4 + len) {
        ssize_t n = ::read(c, tmp, sizeof tmp);
        if (n <= 0) break;
        buf.append(tmp, static_cast<std::size_t>(n));
      }
      std::string line = head.substr(0, head.find(" HTTP/"));
      {
        std::lock_guard l(mu_);
        requests_.push_back(line + (len ? " " + buf.substr(end + 4, len) : ""));
      }
      buf.erase(0, end + 4 + len);
      auto it = script_.find(line);
      canned r = it == script_.end() ? canned{404, R"({"message":"page not found"})"} : it->second;
      if (r.hang) {
        while (!stop_ && ::read(c, tmp, sizeof tmp) > 0) {
        }
        break;
      }
      reply(c, r);
    }
    ::close(c);
  }
  static void reply(int c, const canned& r) {
    std::string out =
        "HTTP/1.1 " + std::to_string(r.status) + " X\r\nContent-Type: application/json\r\n";
    if (r.chunked) {
      out += "Transfer-Encoding: chunked\r\n\r\n";
      for (char ch : r.body) out += "1\r\n" + std::string(1, ch) + "\r\n";
      out += "0\r\n\r\n";
    } else {
      out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
    }
    (void)!::write(c, out.data(), out.size());
  }

  static inline std::atomic<int> counter_{0};
  std::map<std::string, canned> script_;
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::vector<std::thread> conns_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

const std::string version_141 =
    R"({"Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux"})";

docker_client client_for(const fake_dockerd& d,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  docker_client_options o;
  o.socket_path = d.path();
  o.default_timeout = timeout;
  return docker_client(o);
}

}  // namespace

TEST_CASE("docker_client negotiates once, prefixes the version, and keeps one connection") {
  fake_dockerd d({{"GET /version", {200, R"({"ApiVersion":"1.43","MinAPIVersion":"1.12"})"}},
                  {"GET /v1.41/containers/json?all=1", {200, "[]"}},
                  {"POST /v1.41/containers/abc/start", {204, ""}}});
  docker_client c = client_for(d);
  auto a = c.call({http_method::get, "/containers/json?all=1", {}, {}, {}});
  REQUIRE(a.ok());
  CHECK(a->status == 200);
  CHECK(a->body == "[]");
  CHECK(c.api_version() == "1.41");
  auto b = c.call({http_method::post, "/containers/abc/start", {}, {}, {}});
  REQUIRE(b.ok());
  CHECK(b->status == 204);
  CHECK(d.requests() == std::vector<std::string>{"GET /version", "GET /v1.41/containers/json?all=1",
                                                 "POST /v1.41/containers/abc/start"});
  CHECK(d.connections() == 1);
}

TEST_CASE("docker_client speaks an older daemon's version and refuses one too new for it") {
  fake_dockerd old({{"GET /version", {200, R"({"ApiVersion":"1.40","MinAPIVersion":"1.12"})"}},
                    {"GET /v1.40/_ping", {200, "OK"}}});
  docker_client c = client_for(old);
  REQUIRE(c.call({http_method::get, "/_ping", {}, {}, {}}).ok());
  CHECK(c.api_version() == "1.40");
  fake_dockerd future({{"GET /version", {200, R"({"ApiVersion":"1.50","MinAPIVersion":"1.44"})"}}});
  docker_client f = client_for(future);
  auto r = f.call({http_method::get, "/_ping", {}, {}, {}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::unavailable);
  CHECK(r.err().message.find("1.44") != std::string::npos);
  fake_dockerd not_docker({{"GET /version", {200, R"({"hello":"world"})"}}});
  docker_client n = client_for(not_docker);
  CHECK(n.call({http_method::get, "/_ping", {}, {}, {}}).err().code == errc::unavailable);
}

TEST_CASE("docker_client turns Docker's statuses into errors carrying Docker's message") {
  fake_dockerd d(
      {{"GET /version", {200, version_141}},
       {"GET /v1.41/containers/nope/json", {404, R"({"message":"No such container: nope"})"}},
       {"DELETE /v1.41/containers/busy",
        {409, R"({"message":"You cannot remove a running container"})"}},
       {"POST /v1.41/containers/up/start", {304, ""}},
       {"GET /v1.41/info", {500, "plain failure\n"}},
       {"POST /v1.41/containers/create", {400, R"({"message":"invalid reference format"})"}}});
  docker_client c = client_for(d);
  auto nf = c.call({http_method::get, "/containers/nope/json", {}, {}, {}});
  REQUIRE_FALSE(nf.ok());
  CHECK(nf.err().code == errc::not_found);
  CHECK(nf.err().message == "No such container: nope");
  CHECK(c.call({http_method::del, "/containers/busy", {}, {}, {}}).err().code == errc::conflict);
  auto nm = c.call({http_method::post, "/containers/up/start", {}, {}, {}});
  REQUIRE(nm.ok());
  CHECK(nm->status == 304);
  auto ie = c.call({http_method::get, "/info", {}, {}, {}});
  CHECK(ie.err().code == errc::internal);
  CHECK(ie.err().message == "plain failure");
  auto bad = c.call({http_method::post, "/containers/create", R"({"Image":"X"})", {}, {}});
  CHECK(bad.err().code == errc::invalid_argument);
  CHECK(d.requests().back() == R"(POST /v1.41/containers/create {"Image":"X"})");
}

TEST_CASE("docker_client: no daemon is 'unavailable', a silent one is a timeout") {
  docker_client_options o;
  o.socket_path = "/tmp/dm-no-such-dockerd.sock";
  docker_client absent(o);
  auto r = absent.call({http_method::get, "/_ping", {}, {}, {}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::unavailable);
  CHECK(r.err().message.find("/tmp/dm-no-such-dockerd.sock") != std::string::npos);

  fake_dockerd d(
      {{"GET /version", {200, version_141}}, {"GET /v1.41/info", {200, "", false, true}}});
  docker_client c = client_for(d, std::chrono::milliseconds(300));
  auto t0 = std::chrono::steady_clock::now();
  auto t = c.call({http_method::get, "/info", {}, {}, {}});
  REQUIRE_FALSE(t.ok());
  CHECK(t.err().code == errc::timeout);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
}

TEST_CASE("docker_client streams a chunked body piece by piece and can stop early") {
  std::string events = "{\"a\":1}\n{\"b\":2}\n";
  fake_dockerd d({{"GET /version", {200, version_141}},
                  {"GET /v1.41/events", {200, events, true}},
                  {"GET /v1.41/_ping", {200, "OK"}}});
  docker_client c = client_for(d);
  std::string got;
  int pieces = 0;
  auto r = c.stream({http_method::get, "/events", {}, {}, {}}, [&](std::string_view p) {
    got += p;
    ++pieces;
    return true;
  });
  REQUIRE(r.ok());
  CHECK(got == events);
  CHECK(pieces >= 2);
  std::string first;
  auto stopped = c.stream({http_method::get, "/events", {}, {}, {}}, [&](std::string_view p) {
    first += p;
    return false;
  });
  CHECK(stopped.ok());
  CHECK(first.size() < events.size());
  CHECK(c.call({http_method::get, "/_ping", {}, {}, {}}).ok());  // the handle is still usable
}

TEST_CASE("docker_client stops when asked to cancel") {
  std::atomic<bool> cancel{true};
  fake_dockerd d(
      {{"GET /version", {200, version_141}}, {"GET /v1.41/events", {200, "", false, true}}});
  docker_client_options o;
  o.socket_path = d.path();
  o.cancel = &cancel;
  docker_client c(o);
  auto r =
      c.stream({http_method::get, "/events", {}, {}, {}}, [](std::string_view) { return true; });
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("stopping") != std::string::npos);
}
