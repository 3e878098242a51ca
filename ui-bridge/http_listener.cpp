#include "ui-bridge/http_listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <stdexcept>

#include "common/log.hpp"

namespace dockmesh::bridge {

namespace net = boost::asio;
using tcp = net::ip::tcp;

tcp::endpoint parse_listen_address(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    throw std::invalid_argument("--listen must be HOST:PORT, got '" + s + "'");
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("--listen: '" + host + "' is not an IP address");
  int port = 0;
  try {
    std::size_t used = 0;
    port = std::stoi(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) throw std::invalid_argument("--listen: bad port in '" + s + "'");
  return tcp::endpoint(addr, static_cast<unsigned short>(port));
}

http_listener::http_listener(net::io_context& ioc, tcp::endpoint endpoint, http_site& site)
    : http_listener(ioc, endpoint, site.connections,
                    [&site](tcp::socket&& s, connection_limit::slot slot) {
                      std::make_shared<http_session>(std::move(s), site, std::move(slot))->run();
                    }) {}

http_listener::http_listener(net::io_context& ioc, tcp::endpoint endpoint,
                             connection_limit& connections, session_starter start_session)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      connections_(connections),
      start_session_(std::move(start_session)) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + endpoint.address().to_string() + ":" +
                             std::to_string(endpoint.port()) + ": " + ec.message());
}

void http_listener::start() {
  do_accept();
}

void http_listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
  });
}

void http_listener::pause_after(const boost::system::error_code& ec) {
  // Typically EMFILE: accepting again at once would spin. Give closing connections a moment.
  DM_LOG(warn) << "accept: " << ec.message() << "; pausing 100 ms";
  auto t =
      std::make_shared<net::steady_timer>(acceptor_.get_executor(), std::chrono::milliseconds(100));
  t->async_wait([self = shared_from_this(), t](boost::system::error_code e) {
    if (!e) self->do_accept();
  });
}

tcp::endpoint http_listener::local_endpoint() const {
  return acceptor_.local_endpoint();
}

void http_listener::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         [self = shared_from_this()](boost::system::error_code ec, tcp::socket s) {
                           if (ec == net::error::operation_aborted) return;
                           if (ec) return self->pause_after(ec);
                           auto slot = self->connections_.acquire();
                           if (!slot) {
                             // Full: close at once (the client sees a reset, not a hang).
                             boost::system::error_code ignored;
                             s.close(ignored);
                             self->refused_ += 1;
                           } else {
                             self->start_session_(std::move(s), std::move(*slot));
                           }
                           self->do_accept();
                         });
}

}  // namespace dockmesh::bridge
