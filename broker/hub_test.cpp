#include "broker/hub.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <stdexcept>

#include "broker/test_support.hpp"
#include "common/actor.hpp"

using namespace dockmesh;
using namespace dockmesh::broker;
using steady = std::chrono::steady_clock;

namespace {

struct hub_fixture {
  testing::temp_dir dir;
  zmq::context_t ctx{1};
  common::curve_keypair keys = common::generate_keypair();
  broker_settings settings;
  common::metrics::registry metrics;

  hub_fixture() {
    settings.data_dir = dir.str() + "/data";
    settings.authorized_keys_file = dir.str() + "/authorized_keys";
    std::ofstream(settings.authorized_keys_file) << "";
    settings.in_memory_store = true;
    settings.xsub_endpoint = "tcp://127.0.0.1:*";  // any free port
    settings.xpub_endpoint = "tcp://127.0.0.1:*";
    settings.router_endpoint = "tcp://127.0.0.1:*";
  }

  // The body broker/main.cpp gives the hub's actor.
  void start(common::actor& thread, broker_core& core) {
    thread.start([&] {
      hub h(ctx, settings, keys, core, metrics);
      thread.ready();
      h.run(thread);
    });
  }
};

}  // namespace

TEST_CASE("hub: runs on its actor until stop(), which is prompt") {
  hub_fixture f;
  broker_core core(f.settings, f.keys.public_key, common::now_ms());
  common::actor thread("hub test");
  f.start(thread, core);
  CHECK(thread.running());
  auto t0 = steady::now();
  thread.stop();
  CHECK(steady::now() - t0 < std::chrono::seconds(1));  // not a tick, a poll or a timeout away
  CHECK_FALSE(thread.running());
  thread.stop();
}

TEST_CASE("hub: a bind error is the actor's start() exception") {
  hub_fixture f;
  f.settings.xsub_endpoint = "nosuch://127.0.0.1:1";
  broker_core core(f.settings, f.keys.public_key, common::now_ms());
  common::actor thread("hub test");
  CHECK_THROWS_AS(f.start(thread, core), std::runtime_error);
  CHECK_FALSE(thread.running());
}
