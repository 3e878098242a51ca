"""Hostile input against the real broker: oversized frames, malformed multiparts, garbage
envelopes and topics, deep nesting, junk on the control socket and raw junk on the TCP ports.
Each is dropped (and counted) and the broker keeps forwarding and answering."""

import os
import socket
import sys
import time
import unittest

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_harness import Broker, envelope  # noqa: E402
from meshlib import wait_for  # noqa: E402

H1 = "host1.mesh.test"
LIMIT = 64 * 1024


class BrokerRobustnessTest(unittest.TestCase):
    def setUp(self):
        self.b = Broker(agents=(H1,), extra_args=["--max-message-bytes", str(LIMIT)]).start()
        self.addCleanup(lambda: self.b.__exit__(None, None, None))
        self.admin = self.b.control(self.b.admin)
        self.watch = self.b.bus(self.b.admin, "ctl-watch")
        self.watch.subscribe("")
        self.watch.ready()
        self.agent = self.b.bus(self.b.agents[H1], H1)
        self.agent.ready()

    def still_serving(self):
        """The broker forwards a fresh client's message and answers a query."""
        self.b.alive()
        fresh = self.b.bus(self.b.agents[H1], H1)
        fresh.ready(10)
        self.assertEqual(self.admin.call("hosts")[0], 200)

    def test_oversized_frame_is_dropped(self):
        big = envelope("probe", {"pad": "x" * (LIMIT * 2)}, **{"from": H1})
        self.agent.publish(self.agent.reply_topic, big)
        got = None
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not got:
            r = self.watch.receive(0.1)
            got = r if r and r[1].get("id") == big["id"] else None
        self.assertIsNone(got, "oversized message was forwarded")
        self.still_serving()

    def test_malformed_multiparts_and_envelopes_are_dropped(self):
        before = self.b.stats()["dropped_malformed"]
        a = self.agent
        a.pub.send(b"ann/")                                        # one frame
        a.pub.send_multipart([b"ann/", b"x", b"y"])                # three frames
        a.pub.send_multipart([b"ann/", b"\xc1\xc1garbage"])        # not msgpack
        a.pub.send_multipart([b"ann/", msgpack.packb([1, 2, 3])])  # not a map
        a.pub.send_multipart([b"ann/", msgpack.packb({"v": 99, "id": "x"})])  # wrong version
        deep = {"v": 1, "id": "d", "action": "heartbeat", "from": H1, "body": {}}
        node = deep["body"]
        for _ in range(200):
            node["n"] = {}
            node = node["n"]
        a.pub.send_multipart([b"ann/", msgpack.packb(deep)])       # too deep
        a.pub.send_multipart([b"ann/", msgpack.packb({"v": 1, "id": "x", "action": "heartbeat",
                                                      "from": H1, "body": {"fqdn": H1,
                                                      "incarnation": "soon", "sequence": 1}})])
        marker = envelope("probe", {}, **{"from": H1})
        a.publish(a.reply_topic, marker)
        wait_for(lambda: self.b.stats()["dropped_malformed"] - before >= 6, 10,
                 message="malformed messages counted")
        self.assertEqual(self.admin.call("hosts")[1]["hosts"], [])  # none was applied
        self.still_serving()

    def test_bad_topics_are_dropped(self):
        before = self.b.stats()["acl"]["malformed topic"]
        for t in (b"", b"ann", b"rep/../", b"req/host/a b/", b"\xff\xfe/", b"x" * 1000):
            self.agent.pub.send_multipart([t, msgpack.packb(envelope("probe", {}))])
        wait_for(lambda: self.b.stats()["acl"]["malformed topic"] - before >= 6, 10)
        self.still_serving()

    def test_garbage_on_the_control_socket(self):
        raw = self.b.control(self.b.admin).sock
        raw.send(b"one frame only")
        raw.send_multipart([b"", b"\x00\x01\x02 not msgpack"])
        raw.send_multipart([b"", msgpack.packb({"v": 1, "id": "no-action"})])
        raw.send_multipart([b"", b"a", b"b", b"c", b"d"])
        replies = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(replies) < 2:
            if raw.poll(100):
                replies.append(msgpack.unpackb(raw.recv_multipart()[-1], raw=False))
        self.assertEqual([r["code"] for r in replies], [400, 400])
        code, body = self.admin.call("hosts")
        self.assertEqual(code, 200)
        self.assertEqual(self.admin.call("no-such-action")[0], 400)
        self.still_serving()

    def test_raw_junk_on_every_port(self):
        for port in (self.b.base, self.b.base + 1, self.b.base + 2):
            for junk in (b"\xff" * 64, b"GET / HTTP/1.1\r\n\r\n", os.urandom(4096)):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    try:
                        s.sendall(junk)
                        s.settimeout(0.5)
                        s.recv(1024)
                    except OSError:
                        pass
        self.still_serving()


if __name__ == "__main__":
    unittest.main()
