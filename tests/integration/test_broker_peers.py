"""Two brokers of one mesh (same server key, each started with --peer naming the other): clients
connect to both, so every req/any/ request reaches both brokers, and exactly one -- the lowest
live --broker-id -- schedules it. When that broker dies, the other takes over within its liveness
window (3.5 s)."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_harness import Broker, envelope  # noqa: E402
from meshlib import wait_for  # noqa: E402

H1 = "host1.mesh.test"


class BrokerPeersTest(unittest.TestCase):
    def setUp(self):
        self.b1 = Broker(agents=(H1,))
        self.b2 = Broker(same_mesh_as=self.b1)
        self.b1.extra_args = ["--broker-id", "1", "--peer", "127.0.0.1:%d" % self.b2.base]
        self.b2.extra_args = ["--broker-id", "2", "--peer", "127.0.0.1:%d" % self.b1.base]
        self.b1.start()
        self.b2.start()
        self.addCleanup(lambda: self.b1.__exit__(None, None, None))
        self.addCleanup(lambda: self.b2.__exit__(None, None, None))
        self.agent = self.b1.bus(self.b1.agents[H1], H1, also=(self.b2,))
        self.agent.subscribe("req/host/%s/" % H1)
        self.agent.ready()
        self.bridge = self.b1.bus(self.b1.bridge, "bridge-1", also=(self.b2,))
        self.bridge.ready()
        for b in (self.b1, self.b2):  # both brokers know the host
            wait_for(lambda: (self.agent.publish("ann/", self.agent.announcement("heartbeat")),
                              H1 in [h["fqdn"] for h in b.control(b.admin).call("hosts")[1]["hosts"]])[1],
                     10, message="host known to broker %s" % b.router)

    def scheduled_copies(self, window):
        """Sends one create on req/any/ (through both brokers) and counts the copies the agent
        receives on req/host/<fqdn>/ within `window` seconds."""
        self.agent.publish("ann/", self.agent.announcement("heartbeat"))  # stay up
        req = envelope("create-container", {"image": "x"}, **{"from": "bridge-1",
                                                              "reply_to": self.bridge.reply_topic})
        self.bridge.publish("req/any/", req)
        copies = []
        deadline = time.monotonic() + window
        while time.monotonic() < deadline:
            got = self.agent.receive(0.05)
            if got and got[1].get("id") == req["id"]:
                copies.append(got)
        return copies

    def test_exactly_one_broker_schedules(self):
        # The start-up grace of 3.5 s: poll until broker 1 leads.
        wait_for(lambda: len(self.scheduled_copies(1.0)) >= 1, 15, message="a leader")
        for _ in range(3):
            self.assertEqual(len(self.scheduled_copies(1.0)), 1)
        self.assertGreater(self.b1.stats()["scheduled"], 0)
        self.assertEqual(self.b2.stats()["scheduled"], 0)

    def test_the_other_broker_takes_over(self):
        wait_for(lambda: len(self.scheduled_copies(1.0)) >= 1, 15, message="a leader")
        self.b1.kill9()
        start = time.monotonic()
        wait_for(lambda: len(self.scheduled_copies(0.5)) == 1, 10, message="broker 2 scheduling")
        took = time.monotonic() - start
        print("broker 2 took over %.1f s after broker 1 died" % took)
        self.assertLess(took, 6.0)
        self.assertGreater(self.b2.stats()["scheduled"], 0)


if __name__ == "__main__":
    unittest.main()
