#include "broker/wal_syncer.hpp"

#include <doctest/doctest.h>

#include "broker/test_support.hpp"

using namespace dockmesh::broker;
using namespace dockmesh::broker::testing;

TEST_CASE("deferred sync: sync writes are counted, then made durable off the caller's thread") {
  temp_dir dir;
  state_db db(dir.str());
  db.set_deferred_sync(true);
  REQUIRE(db.put("k/a", 1, true).ok());
  REQUIRE(db.put("k/b", 2, false).ok());
  REQUIRE(db.erase("k/a", true).ok());
  CHECK(db.take_unsynced() == 2);
  CHECK(db.take_unsynced() == 0);
  CHECK(db.get("k/b") == nlohmann::json(2));

  zmq::context_t ctx(1);
  wal_syncer syncer(ctx, db);
  auto t1 = syncer.request();
  auto t2 = syncer.request();
  CHECK(t2 > t1);
  std::vector<zmq::pollitem_t> items{{syncer.socket().handle(), 0, ZMQ_POLLIN, 0}};
  for (int i = 0; i < 100 && syncer.durable() < t2; ++i) {
    zmq::poll(items, std::chrono::milliseconds(100));
    syncer.collect();
  }
  CHECK(syncer.durable() == t2);
  CHECK(syncer.failed() == 0);
}
