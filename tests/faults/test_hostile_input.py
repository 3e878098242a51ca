"""Bad input from outside, on a real mesh: raw HTTP bytes at the bridge, and hostile frames on
the bus (unknown keys, ACL violations, malformed and oversized frames, junk on the control
socket).

Promised (docs/broker.md, docs/bridge.md): bad input gets a clear 4xx (or the
connection is closed), never a 5xx, never a hang past the bounds, never a crash; nothing from a
forbidden topic is forwarded; every daemon keeps serving normal requests afterwards.
"""

import json
import os
import socket
import sys
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (Bus, Mesh, alive, broker_public_key, read_key_file,  # noqa: E402
                      scaled)
from bridgelib import Bridge, b64url  # noqa: E402

H1 = "host1.mesh.test"


def raw_http(host, port, data, timeout=10):
    """Sends raw bytes; returns the status code of the answer, or None if the bridge closed the
    connection without one. Fails if nothing happens within timeout."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the bridge stopped reading: fine, as long as it answers or closes
        buf = b""
        try:
            while b"\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except ConnectionResetError:
            return None
    if not buf:
        return None
    parts = buf.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1


def forged_jwt(header):
    h = b64url(json.dumps(header).encode())
    p = b64url(json.dumps({"sub": "admin", "role": "admin", "exp": 4102444800}).encode())
    return "%s.%s.%s" % (h, p, b64url(b"x" * 32))


class HostileInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1, bridge=True).up()
        cls.bridge = Bridge.admin(cls.mesh)

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()

    def assert_all_alive(self):
        for d in ("broker", "agent-host1", "bridge"):
            self.assertTrue(alive(self.mesh.pid(d)), "%s died" % d)
        self.assertEqual(self.bridge.get("/api/v1/hosts").status, 200)

    def test_raw_http(self):
        b = self.bridge
        login = b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"

        def body(data):
            return login + b"Content-Length: %d\r\n\r\n" % len(data) + data
        cases = {
            "binary garbage": b"\x00\xff\xfe\x16\x03\x01garbage\r\n\r\n",
            "no HTTP version": b"GET /\r\n\r\n",
            "100 KB target": b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            "10000 headers": b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 10000 + b"\r\n",
            "negative length": login + b"Content-Length: -1\r\n\r\n{}",
            "huge length": login + b"Content-Length: 999999999999\r\n\r\n{}",
            "bad chunk": login + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            "not json": body(b"{{{{{"),
            "non-UTF-8 json": body(b'{"username": "\xff\xfe", "password": "x"}'),
            "deep json": body(b"[" * 200000),
            "deep object": body(b'{"a":' * 50000 + b"1" + b"}" * 50000),
            "traversal": b"GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
            "encoded traversal": b"GET /%2e%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
            "encoded slash": b"GET /..%2f..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: x\r\n\r\n",
        }
        for name, data in cases.items():
            with self.subTest(name):
                status = raw_http(b.host, b.port, data, timeout=scaled(15))
                self.assertTrue(status is None or 400 <= status < 500 or
                                (status in (200, 404) and "traversal" in name),
                                "%s: answered %r" % (name, status))
        for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/static/..%2f..%2fetc/passwd"):
            r = b.get(path, token="")
            self.assertNotIn("root:x:0:0", r.text, "static files escaped their directory: " + path)
        self.assert_all_alive()

    def test_bad_tokens_and_messages(self):
        b = self.bridge
        for token in ("garbage", "a.b.c", forged_jwt({"alg": "none"}), forged_jwt({"alg": 1}),
                      forged_jwt({"alg": "HS256", "typ": ["x"]}), "x" * 20000):
            with self.subTest(token=token[:40]):
                r = b.get("/api/v1/hosts", token=token)
                # 413/431: a 20 KB header is refused before the token is looked at.
                self.assertIn(r.status, (401, 413, 431), r)
        for msg in ({"action": "register"}, {"action": "no-such"}, {"action": "ping", "host": "../x"},
                    {"action": "create-container", "image": 5},
                    {"action": "create-container", "image": "x", "binds": ["/etc:/e"]},
                    {"action": "stop-container", "id": "../../x"}, [1, 2], "ping"):
            with self.subTest(msg=msg):
                r = b.post("/api/v1/messages", msg)
                self.assertTrue(400 <= r.status < 500, r)
                self.assertTrue(r.error()[1], "no error message: %r" % r)
        self.assert_all_alive()

    def test_hostile_bus(self):
        mesh = self.mesh
        ctx = zmq.Context()
        server = broker_public_key(mesh)
        port = mesh.base_port
        try:
            # An unknown key: refused by ZAP, nothing it publishes arrives anywhere.
            stranger = ctx.socket(zmq.PUB)
            stranger.linger = 0
            pub, sec = zmq.curve_keypair()
            stranger.curve_serverkey, stranger.curve_publickey, stranger.curve_secretkey = \
                server.encode(), pub, sec
            stranger.connect("tcp://127.0.0.1:%d" % port)
            # The agent's own key publishing requests: an ACL violation, dropped.
            agent_keys = read_key_file(mesh.path("host1", "agent.key"))
            rogue = ctx.socket(zmq.PUB)
            rogue.linger = 0
            rogue.curve_serverkey = server.encode()
            rogue.curve_publickey = agent_keys["public-key"].encode()
            rogue.curve_secretkey = agent_keys["secret-key"].encode()
            rogue.connect("tcp://127.0.0.1:%d" % port)
            watcher = Bus(mesh)
            watcher.subscribe("req/")
            watcher.subscribe("dir/")
            deadline = time.monotonic() + scaled(3)
            while time.monotonic() < deadline:
                for s in (stranger, rogue):
                    env = {"v": 1, "id": "evil", "action": "remove-container", "from": "x",
                           "reply_to": "rep/x/", "user": "admin", "role": "admin",
                           "body": {"id": "anything", "force": True}}
                    s.send_multipart([b"req/host/%s/" % H1.encode(), msgpack.packb(env)])
                    s.send_multipart([b"dir/", msgpack.packb(dict(env, action="host-gone"))])
                    s.send_multipart([b"req/all/", b"\x00junk", b"third frame"])
                m = watcher.receive(0.05)
                self.assertFalse(m and m[1].get("id") == "evil", "forbidden message forwarded: %r" % (m,))
            # Oversized frame from an accepted key (over the 4 MB cap): dropped, not a crash.
            rogue.send_multipart([b"rep/x/", b"\x00" * (5 * 1024 * 1024)])
            # Junk on the control socket (ROUTER), also from an unknown key.
            dealer = ctx.socket(zmq.DEALER)
            dealer.linger = 0
            dealer.curve_serverkey, dealer.curve_publickey, dealer.curve_secretkey = \
                server.encode(), pub, sec
            dealer.connect("tcp://127.0.0.1:%d" % (port + 2))
            for junk in ([b"", b"\xc1\xc1"], [b"no empty frame"], [b"", b"", b""],
                         [b"", msgpack.packb({"v": 1, "id": "k", "action": "keys-accept",
                                              "body": {"key": pub.decode()}})]):
                dealer.send_multipart(junk)
            if dealer.poll(int(scaled(3) * 1000)):
                reply = dealer.recv_multipart()
                env = msgpack.unpackb(reply[-1], raw=False)
                self.assertNotEqual(env.get("code"), 200, "an unknown key accepted itself: %r" % env)
            for s in (stranger, rogue, dealer):
                s.close()
            self.assertEqual((watcher.call(H1, "ping", {}) or {}).get("code"), 200)
            watcher.close()
        finally:
            ctx.term()
        self.assert_all_alive()
        rc, out = mesh.ctl("keys", "list")
        self.assertEqual(rc, 0, mesh.last_stderr)
        states = {k["public_key"]: k["state"] for k in out.get("keys", [])}
        self.assertNotEqual(states.get(pub.decode()), "accepted")


if __name__ == "__main__":
    unittest.main()
