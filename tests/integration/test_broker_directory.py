"""The broker's directory against the real binary: RocksDB survives kill -9, a silent host is down
within 3.5 s and gone after the retention, changes are published on dir/, last-writer-wins on
(incarnation, sequence), and a restarted broker asks agents to re-announce.

Agents are simulated with Debian's python3-zmq/python3-msgpack (broker_harness.Bus)."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_harness import Broker, envelope  # noqa: E402
from meshlib import wait_for  # noqa: E402

H1 = "host1.mesh.test"
H2 = "host2.mesh.test"


def next_event(bus, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = bus.receive(0.05)
        if got and predicate(*got):
            return got, time.monotonic()
    return None, None


class BrokerDirectoryTest(unittest.TestCase):
    def start(self, **kw):
        self.b = Broker(agents=(H1, H2), **kw).start()
        self.addCleanup(lambda: self.b.__exit__(None, None, None))
        self.admin = self.b.control(self.b.admin)
        self.watch = self.b.bus(self.b.admin, "ctl-watch")
        self.watch.subscribe("dir/")
        self.watch.ready()
        self.agent = self.b.bus(self.b.agents[H1], H1)
        self.agent.subscribe("req/all/")  # an agent may read only its own request topics
        self.agent.subscribe("req/host/%s/" % H1)
        self.agent.ready()

    def hosts(self, **body):
        code, out = self.admin.call("hosts", body)
        self.assertEqual(code, 200, out)
        return {h["fqdn"]: h for h in out["hosts"]}

    def inventory(self, containers):
        a = self.agent
        a.sequence += 1
        return envelope("inventory", {"fqdn": H1, "incarnation": a.incarnation,
                                      "sequence": a.sequence, "containers": containers},
                        **{"from": H1})

    def test_directory_survives_kill_9(self):
        self.start()
        self.agent.publish("ann/", self.agent.announcement("register", labels={"zone": "a"}))
        self.agent.publish("ann/", self.inventory([{"id": "abc123def456", "name": "/web",
                                                    "image": "local/busybox:latest",
                                                    "state": "running", "owner": "alice"}]))
        wait_for(lambda: self.admin.call("container", {"ref": "web"})[0] == 200, 10,
                 message="container indexed")
        self.assertEqual(self.hosts()[H1]["labels"], {"zone": "a"})
        self.b.kill9()
        self.b.start()
        admin = self.b.control(self.b.admin)
        code, body = admin.call("hosts")
        self.assertEqual([h["fqdn"] for h in body["hosts"]], [H1])
        self.assertEqual(body["hosts"][0]["labels"], {"zone": "a"})
        code, c = admin.call("container", {"ref": "abc123"})
        self.assertEqual(code, 200, c)
        self.assertEqual((c["host"], c["name"], c["owner"]), (H1, "web", "alice"))
        code, cs = admin.call("containers", {"owner": "alice"})
        self.assertEqual(len(cs["containers"]), 1)

    def test_silent_host_is_down_within_3_5_seconds(self):
        self.start()
        last = None
        for _ in range(4):  # 1 Hz heartbeats, as agents send them
            self.agent.publish("ann/", self.agent.announcement("heartbeat"))
            last = time.monotonic()
            ev, _ = next_event(self.watch, lambda t, e: e.get("action") == "host-down", 1.0)
            self.assertIsNone(ev, "down while heartbeats were flowing")
        ev, at = next_event(self.watch, lambda t, e: e.get("action") == "host-down" and
                            e["body"]["fqdn"] == H1, 6)
        self.assertIsNotNone(ev, "no host-down on dir/")
        elapsed = at - last
        print("down detected %.2f s after the last heartbeat" % elapsed)
        self.assertLessEqual(elapsed, 3.5)
        self.assertGreaterEqual(elapsed, 2.0)
        self.assertEqual(self.hosts()[H1]["status"], "down")
        self.assertEqual(self.hosts(status="down")[H1]["reason"], "missed heartbeats")
        # Heartbeats again: up again, on dir/ too.
        self.agent.publish("ann/", self.agent.announcement("heartbeat"))
        ev, _ = next_event(self.watch, lambda t, e: e.get("action") == "host-up", 5)
        self.assertIsNotNone(ev)

    def test_gone_after_retention_drops_containers(self):
        self.start(extra_args=["--down-after-ms", "300", "--gone-after-seconds", "1"])
        self.agent.publish("ann/", self.agent.announcement("register"))
        self.agent.publish("ann/", self.inventory([{"id": "feedbeef0001", "name": "/x",
                                                    "image": "i", "state": "running"}]))
        ev, _ = next_event(self.watch, lambda t, e: e.get("action") == "container-added", 5)
        self.assertIsNotNone(ev)
        ev, _ = next_event(self.watch, lambda t, e: e.get("action") == "host-gone", 5)
        self.assertIsNotNone(ev, "host never gone")
        ev, _ = next_event(self.watch, lambda t, e: e.get("action") == "container-removed", 2)
        self.assertIsNotNone(ev)
        self.assertEqual(self.hosts(status="gone")[H1]["status"], "gone")
        self.assertEqual(self.admin.call("container", {"ref": "feedbeef"})[0], 404)

    def test_changes_on_dir_and_last_writer_wins(self):
        self.start()
        a = self.agent
        a.publish("ann/", a.announcement("register", labels={"v": "1"}))
        ev, _ = next_event(self.watch, lambda t, e: e.get("action") == "host-up", 5)
        self.assertEqual(ev[1]["body"]["labels"], {"v": "1"})
        newer = a.announcement("heartbeat", labels={"v": "3"})
        older = a.announcement("heartbeat", labels={"v": "2"})
        older["body"]["sequence"], newer["body"]["sequence"] = newer["body"]["sequence"], older["body"]["sequence"]
        a.publish("ann/", newer)   # sequence n+1
        a.publish("ann/", older)   # sequence n: arrives later, loses
        ev, _ = next_event(self.watch, lambda t, e: e.get("action") == "host-updated", 5)
        self.assertEqual(ev[1]["body"]["labels"], {"v": "3"})
        wait_for(lambda: self.b.stats()["announcements"] >= 3, 5)
        self.assertEqual(self.hosts()[H1]["labels"], {"v": "3"})
        a.publish("ann/", a.announcement("unregister"))
        ev, _ = next_event(self.watch, lambda t, e: e.get("action") == "host-down", 5)
        self.assertEqual(ev[1]["body"]["reason"], "unregistered")

    def test_restarted_broker_asks_for_reannouncement(self):
        self.start()
        self.agent.publish("ann/", self.agent.announcement("register"))
        wait_for(lambda: H1 in self.hosts(), 5)
        self.b.stop()
        self.b.start()
        # The agent's sockets reconnect by themselves; the broadcast repeats while they do.
        ev, _ = next_event(self.agent, lambda t, e: e.get("action") == "reannounce", 8)
        self.assertIsNotNone(ev, "no reannounce after restart")
        self.assertIn(ev[0], ("req/all/", "req/host/%s/" % H1))
        # A host that heartbeats without sending its inventory is asked directly.
        found = None
        deadline = time.monotonic() + 10
        while not found and time.monotonic() < deadline:
            self.agent.publish("ann/", self.agent.announcement("heartbeat"))
            found, _ = next_event(self.agent, lambda t, e: t == "req/host/%s/" % H1 and
                                  e.get("action") == "reannounce", 1.0)
        self.assertIsNotNone(found, "no targeted reannounce")


if __name__ == "__main__":
    unittest.main()
