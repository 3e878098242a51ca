#include "common/poll_set.hpp"

#include <doctest/doctest.h>

#include <sys/eventfd.h>
#include <unistd.h>

using dockmesh::common::poll_set;

TEST_CASE("poll_set: each slot reports its own socket, null sockets are never ready") {
  zmq::context_t ctx;
  zmq::socket_t a_in(ctx, zmq::socket_type::pair), a_out(ctx, zmq::socket_type::pair);
  zmq::socket_t b_in(ctx, zmq::socket_type::pair), b_out(ctx, zmq::socket_type::pair);
  a_in.bind("inproc://poll-set-a");
  a_out.connect("inproc://poll-set-a");
  b_in.bind("inproc://poll-set-b");
  b_out.connect("inproc://poll-set-b");
  zmq::socket_t absent;
  int fd = eventfd(0, EFD_NONBLOCK);
  REQUIRE(fd >= 0);

  poll_set ps;
  auto none = ps.add(absent);
  auto a = ps.add(a_in);
  auto b = ps.add(b_in);
  auto wake = ps.add_fd(fd);
  poll_set::slot never;
  b_out.send(zmq::str_buffer("x"), zmq::send_flags::none);
  ps.poll(std::chrono::milliseconds(1000));
  CHECK_FALSE(ps.ready(none));
  CHECK_FALSE(ps.ready(never));
  CHECK_FALSE(ps.ready(a));
  CHECK(ps.ready(b));
  CHECK_FALSE(ps.ready(wake));

  zmq::message_t m;
  REQUIRE(b_in.recv(m, zmq::recv_flags::dontwait));
  std::uint64_t one = 1;
  REQUIRE(write(fd, &one, sizeof one) == sizeof one);
  ps.poll(std::chrono::milliseconds(1000));
  CHECK(ps.ready(wake));
  CHECK_FALSE(ps.ready(b));
  close(fd);
}
