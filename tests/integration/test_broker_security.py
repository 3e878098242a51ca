"""The broker's security, against the real dockmesh-broker binary with real CURVE.

The client here is independent of dockmesh's C++ code: Debian's python3-zmq and python3-msgpack
(broker_harness.Bus/Control). Where dockmeshctl (the C++ common/bus_client) is built, the same
attempts are repeated with it and must fail the same way.
"""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_harness import Broker, Key, envelope  # noqa: E402
from meshlib import BUILD_DIR, wait_for  # noqa: E402

H1 = "host1.mesh.test"
H2 = "host2.mesh.test"
CTL = os.path.join(BUILD_DIR, "bin", "dockmeshctl")


def seen(bus, predicate, timeout=5.0):
    """Reads bus until predicate(topic, env) holds (returns it) or the timeout passes (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = bus.receive(0.1)
        if got and predicate(*got):
            return got
    return None


class BrokerSecurityTest(unittest.TestCase):
    def setUp(self):
        self.b = Broker(agents=(H1, H2)).start()
        self.watch = self.b.bus(self.b.admin, "ctl-watch")
        self.watch.subscribe("")
        self.watch.ready()
        self.agent = self.b.bus(self.b.agents[H1], H1)
        self.agent.ready()
        self.admin = self.b.control(self.b.admin)

    def tearDown(self):
        self.b.__exit__(*([None] * 3 if not self._failed() else (AssertionError, None, None)))

    def _failed(self):
        result = getattr(self._outcome, "result", None)
        return bool(result and any(t is self for t, _ in result.failures + result.errors))

    def until_sentinel(self, bus):
        """Publishes a marker on bus's reply topic (re-publishing until seen) and returns every
        message the watcher received before it. ZeroMQ keeps one connection's order, so anything
        bus published earlier and the broker forwarded is in that list."""
        mark = envelope("probe", {"sentinel": True}, **{"from": bus.client_id})
        before = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            bus.publish(bus.reply_topic, mark)
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                got = self.watch.receive(0.05)
                if not got:
                    continue
                if got[1].get("id") == mark["id"]:
                    return before
                before.append(got)
        self.fail("sentinel from %s never came back" % bus.client_id)

    def ctl(self, key_path, *args):
        argv = [CTL, "--broker", "127.0.0.1:%d" % self.b.base, "--broker-key", self.b.server.public,
                "--key", key_path, "--timeout", "1500", "--log-level", "error"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=30)

    def test_unknown_key_receives_nothing_and_delivers_nothing(self):
        stranger = Key("agent", "host9.mesh.test")
        s = self.b.bus(stranger, "host9.mesh.test")
        s.subscribe("")
        received = []
        for i in range(30):  # three seconds of traffic in both directions
            self.agent.publish("ann/", self.agent.announcement("heartbeat"))
            s.publish("ann/", s.announcement("register"))
            s.publish("req/all/", envelope("ping", {}, **{"from": "host9.mesh.test",
                                                        "reply_to": "rep/host9.mesh.test/"}))
            got = s.receive(0.1)
            if got:
                received.append(got)
        self.until_sentinel(self.agent)
        self.assertEqual(received, [])
        code, body = self.admin.call("hosts")
        self.assertEqual([h["fqdn"] for h in body["hosts"]], [H1])
        keys = {k["public_key"]: k for k in self.admin.call("keys-list")[1]["keys"]}
        self.assertEqual(keys[stranger.public]["state"], "pending")
        self.assertGreater(self.b.stats()["zap_refused"], 0)
        # On the control endpoint the stranger is pending: enroll only.
        code, rep = self.b.control(stranger).call("hosts")
        self.assertEqual(code, 403)

    def test_agent_cannot_request_or_speak_for_another_host(self):
        before = self.b.stats()["dropped_acl"]
        a = self.agent
        req = envelope("create-container", {"image": "x"}, **{"from": H1, "reply_to": a.reply_topic})
        a.publish("req/host/%s/" % H2, req)
        a.publish("req/host/%s/" % H1, req)
        a.publish("req/any/", req)
        a.publish("req/all/", req)
        a.publish("ann/", a.announcement("heartbeat", fqdn=H2))           # body for another host
        fake = a.announcement("heartbeat")
        fake["from"] = H2                                                 # envelope from another host
        a.publish("ann/", fake)
        a.publish("evt/host/%s/" % H2, envelope("container-die", {}, **{"from": H1}))
        a.publish("dir/", envelope("host-gone", {"fqdn": H2}, **{"from": H1}))
        a.publish("bogus/", req)
        bad = {req["id"], fake["id"]}
        got = self.until_sentinel(a)
        self.assertFalse([(t, e) for t, e in got if e.get("id") in bad or t.startswith("ann/")
                          and e.get("body", {}).get("fqdn") == H2])
        self.assertNotIn(H2, [h["fqdn"] for h in self.admin.call("hosts")[1]["hosts"]])
        self.assertGreaterEqual(self.b.stats()["dropped_acl"] - before, 9)
        # And its own announcements still pass.
        a.publish("ann/", a.announcement("heartbeat"))
        wait_for(lambda: H1 in [h["fqdn"] for h in self.admin.call("hosts")[1]["hosts"]], 5)

    def test_bridge_cannot_broadcast_admin_can(self):
        bridge = self.b.bus(self.b.bridge, "bridge-1")
        bridge.ready()
        e = envelope("ping", {}, **{"from": "bridge-1", "reply_to": bridge.reply_topic})
        bridge.publish("req/all/", e)
        bridge.publish("req/host/%s/" % H1, envelope("ping", {}, **{"from": "bridge-1",
                                                                    "reply_to": bridge.reply_topic}))
        got = self.until_sentinel(bridge)
        self.assertFalse([m for _, m in got if m.get("id") == e["id"]])
        admin_bus = self.b.bus(self.b.admin, "ctl-1")
        admin_bus.ready()
        ok = envelope("ping", {}, **{"from": "ctl-1", "reply_to": admin_bus.reply_topic})
        admin_bus.publish("req/all/", ok)
        self.assertIsNotNone(seen(self.watch, lambda t, m: m.get("id") == ok["id"], 5))
        self.assertGreaterEqual(self.b.stats()["acl"]["topic not allowed for this role"], 1)

    def test_revoked_key_is_cut_off_at_once(self):
        bridge = self.b.bus(self.b.bridge, "bridge-1")
        bridge.subscribe("")
        bridge.ready()
        bridge_ctl = self.b.control(self.b.bridge)
        self.assertEqual(bridge_ctl.call("hosts")[0], 200)
        code, body = self.admin.call("keys-revoke", {"key": "bridge"})
        self.assertEqual(code, 200, body)
        self.assertEqual(body["state"], "revoked")
        # From here on, nothing the agent publishes reaches the bridge, and nothing the bridge
        # publishes reaches anyone, while the (re-connected) watcher keeps receiving.
        marks, leaked, delivered = [], [], []
        for i in range(40):
            m = envelope("probe", {"n": i}, **{"from": H1})
            marks.append(m["id"])
            self.agent.publish(self.agent.reply_topic, m)
            r = envelope("ping", {}, **{"from": "bridge-1", "reply_to": bridge.reply_topic})
            bridge.publish("req/host/%s/" % H1, r)
            leaked.append(r["id"])
            got = bridge.receive(0.05)
            while got:
                if got[1].get("id") in marks:
                    self.fail("revoked bridge received %r" % (got,))
                got = bridge.receive(0)
            w = self.watch.receive(0.05)
            while w:
                delivered.append(w[1].get("id"))
                w = self.watch.receive(0)
        self.assertTrue(set(marks) & set(delivered), "watcher never reconnected")
        self.assertFalse(set(leaked) & set(delivered), "revoked bridge's requests were delivered")
        self.assertEqual(bridge_ctl.call("hosts")[0], 403)
        self.assertEqual(self.b.stats()["bus_rebinds"], 1)
        # Re-accepting restores it. libzmq 4.3 does not retry a connection that failed
        # authentication, so the client connects afresh.
        self.assertEqual(self.admin.call("keys-accept", {"key": self.b.bridge.public})[0], 200)
        self.b.bus(self.b.bridge, "bridge-2").ready(15)

    def test_revocation_survives_kill_9(self):
        # The reply comes only once the revocation is fsynced, so kill -9 right after it keeps it.
        self.assertEqual(self.admin.call("keys-revoke", {"key": H2})[0], 200)
        self.b.kill9()
        self.b.start()  # the authorized-keys file still lists host2's key
        keys = {k["name"]: k["state"] for k in self.b.control(self.b.admin).call("keys-list")[1]["keys"]}
        self.assertEqual(keys[H2], "revoked")
        h2 = self.b.bus(self.b.agents[H2], H2)
        h2.subscribe(h2.reply_topic)
        for _ in range(10):
            h2.publish(h2.reply_topic, envelope("probe", {}, **{"from": H2}))
            self.assertIsNone(h2.receive(0.1))

    def test_dockmeshctl_with_the_same_keys_fails_the_same_way(self):
        self.assertTrue(os.path.exists(CTL), "dockmeshctl is not built: " + CTL)
        d = self.b.dir
        paths = {}
        for name, key in (("agent", self.b.agents[H1]), ("stranger", Key("admin", "x")),
                          ("bridge", self.b.bridge), ("admin", self.b.admin)):
            paths[name] = os.path.join(d, name + ".key")
            key.write(paths[name])
        # Unknown key: the directory refuses it (pending), the bus never connects.
        r = self.ctl(paths["stranger"], "hosts")
        self.assertNotEqual(r.returncode, 0)
        r = self.ctl(paths["stranger"], "send", "--all", '{"action":"ping"}')
        self.assertNotEqual(r.returncode, 0)
        # An agent key cannot broadcast nor send to another host; the bridge cannot broadcast.
        before = self.b.stats()["dropped_acl"]
        r = self.ctl(paths["agent"], "send", "--host", H2, '{"action":"ping"}')
        self.assertNotEqual(r.returncode, 0)
        r = self.ctl(paths["bridge"], "send", "--all", '{"action":"ping"}')
        self.assertNotEqual(r.returncode, 0)
        self.assertGreaterEqual(self.b.stats()["dropped_acl"] - before, 2)
        # The admin key works.
        r = self.ctl(paths["admin"], "hosts")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("hosts", json.loads(r.stdout))


if __name__ == "__main__":
    unittest.main()
