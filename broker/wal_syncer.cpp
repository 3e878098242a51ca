#include "broker/wal_syncer.hpp"

#include <cstring>

#include "common/log.hpp"

namespace dockmesh::broker {
namespace {

struct completion {
  std::uint64_t ticket;
  bool ok;
};

}  // namespace

wal_syncer::wal_syncer(zmq::context_t& ctx, state_db& db) : pipe_(ctx, zmq::socket_type::pair) {
  std::string endpoint =
      "inproc://dockmesh-wal-sync-" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
  pipe_.set(zmq::sockopt::linger, 0);
  pipe_.bind(endpoint);
  thread_ = std::thread([this, &ctx, &db, endpoint] { run(ctx, db, endpoint); });
}

wal_syncer::~wal_syncer() {
  pipe_.send(zmq::str_buffer("$TERM"), zmq::send_flags::none);
  thread_.join();
}

std::uint64_t wal_syncer::request() {
  std::uint64_t ticket = ++next_;
  pipe_.send(zmq::buffer(&ticket, sizeof ticket), zmq::send_flags::none);
  return ticket;
}

void wal_syncer::collect() {
  zmq::message_t m;
  while (pipe_.recv(m, zmq::recv_flags::dontwait)) {
    if (m.size() != sizeof(completion)) continue;
    completion c;
    std::memcpy(&c, m.data(), sizeof c);
    (c.ok ? durable_ : failed_) = std::max(c.ok ? durable_ : failed_, c.ticket);
  }
}

void wal_syncer::run(zmq::context_t& ctx, state_db& db, std::string endpoint) {
  zmq::socket_t pipe(ctx, zmq::socket_type::pair);
  pipe.set(zmq::sockopt::linger, 0);
  pipe.connect(endpoint);
  for (;;) {
    zmq::message_t m;
    if (!pipe.recv(m, zmq::recv_flags::none)) continue;
    std::uint64_t highest = 0;
    bool stop = false;
    do {  // every ticket queued so far is covered by the one fsync below
      if (m.size() == sizeof highest) {
        std::uint64_t t;
        std::memcpy(&t, m.data(), sizeof t);
        highest = std::max(highest, t);
      } else {
        stop = true;
      }
    } while (pipe.recv(m, zmq::recv_flags::dontwait));
    if (highest) {
      auto r = db.sync_wal();
      if (!r) {
        DM_LOG(error) << "fsync of the directory's WAL failed: " << r.err().message;
      }
      completion c{highest, r.ok()};
      pipe.send(zmq::buffer(&c, sizeof c), zmq::send_flags::none);
    }
    if (stop) return;
  }
}

}  // namespace dockmesh::broker
