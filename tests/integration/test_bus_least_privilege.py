"""The bus played as an attacker holding one agent's real key (host2's), on a real mesh from
scripts/mesh.sh: the broker refuses every subscription outside host2's ACL, so host2 reads
nothing of host1's requests or of the CLI's and the bridge's replies while real traffic flows;
a reply host2 forges for a request sent to host1 is refused by the CLI and the bridge (the
broker's stamp says host2), and one that claims to come from host1 never leaves the broker.
Refusals are counted in the broker's stats and logged. Owned by the bus-security engineer.
Only 127.0.0.1.
"""

import json
import os
import sys
import threading
import time
import unittest

import msgpack
import zmq
from zmq.utils import z85

sys.path.insert(0, os.path.dirname(__file__))
from agent_bus import AgentBus  # noqa: E402
from bridgelib import Bridge  # noqa: E402
from broker_harness import Control, envelope  # noqa: E402
from dmtest.bus import BusClient, read_key_file  # noqa: E402
from meshlib import Mesh, wait_for  # noqa: E402

H1, H2 = "host1.mesh.test", "host2.mesh.test"
IMAGE = "local/busybox:latest"


class KeyPair:
    def __init__(self, path):
        k = read_key_file(path)
        self.public, self.secret = k["public-key"], k["secret-key"]


def hex_of(public):
    return z85.decode(public.encode()).hex()


class Attacker(BusClient):
    """A PUB and a SUB with host2's agent key (dmtest.bus: pyzmq only); frames() are raw, with
    the broker's stamp."""

    def __init__(self, mesh, server):
        key = KeyPair(mesh.path("host2", "agent.key"))
        super().__init__(server, key.public, key.secret,
                         [("tcp://127.0.0.1:%d" % mesh.base_port,
                           "tcp://127.0.0.1:%d" % (mesh.base_port + 1))], "attacker")

    def frames(self, timeout):
        return self.sub.recv_multipart() if self.sub.poll(int(timeout * 1000)) else None


class BusLeastPrivilegeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=2).up()
        m = cls.mesh
        cls.server = read_key_file(m.path("broker.pub")).get("public-key")
        admin = KeyPair(m.path("admin.key"))
        cls.ctx = zmq.Context()
        cls.control = Control(cls.ctx, "tcp://127.0.0.1:%d" % (m.base_port + 2), cls.server, admin)
        cls.admin_hex = hex_of(admin.public)
        cls.bridge_hex = hex_of(KeyPair(m.path("bridge.key")).public)
        cls.attacker = Attacker(m, cls.server)
        cls.watcher = AgentBus(m)  # admin key: sees requests, as an operator would
        cls.watcher.subscribe("req/host/%s/" % H1)

    @classmethod
    def tearDownClass(cls):
        cls.attacker.close()
        cls.watcher.close()
        cls.control.close()
        cls.ctx.term()
        cls.mesh.down()

    def stats(self):
        code, body = self.control.call("stats")
        self.assertEqual(code, 200, body)
        return body

    def broker_log(self):
        with open(self.mesh.path("logs", "broker.log"), errors="replace") as f:
            return f.read()

    def create_stubborn(self, host):
        """A container on `host` that ignores SIGTERM: stopping it takes `timeout` seconds."""
        rc, rep = self.mesh.send({"action": "create-container", "host": host, "image": IMAGE,
                                  "network_mode": "none",
                                  "cmd": ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"]})
        self.assertEqual(rc, 0, (rep, self.mesh.last_stderr))
        return rep["body"]["id"]

    def test_1_agent_key_reads_nothing_of_its_peers(self):
        a = self.attacker
        refused_before = self.stats()["subscriptions_refused"]
        forbidden = ["", "req/", "req/host/%s/" % H1, "req/host/%s" % H1, "req/any/", "rep/",
                     "rep/ctl-", "rep/ctl-0_%s/" % self.admin_hex,
                     "rep/bridge-0_%s/" % self.bridge_hex, "rep/%s/" % H1, "evt/", "dir/", "ann/"]
        for prefix in forbidden:
            a.sub.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        own = "rep/%s/" % H2
        a.sub.setsockopt(zmq.SUBSCRIBE, own.encode())
        # Its own reply topic works: the socket is connected and subscribed.
        probe = envelope("probe", {}, **{"from": H2})

        def echoed():
            a.pub.send_multipart([own.encode(), msgpack.packb(probe)])
            f = a.frames(0.2)
            return f is not None and msgpack.unpackb(f[1], raw=False).get("id") == probe["id"]
        wait_for(echoed, 15, message="host2's own reply topic")
        wait_for(lambda: self.stats()["subscriptions_refused"] - refused_before >= len(forbidden),
                 10, message="every forbidden subscription refused")
        # Real traffic to host1 and its replies, from the CLI and the bridge.
        bridge = Bridge.admin(self.mesh)
        for _ in range(3):
            rc, rep = self.mesh.send({"action": "ping", "host": H1})
            self.assertEqual((rc, rep["from"]), (0, H1), self.mesh.last_stderr)
            r = bridge.send({"action": "ping", "host": H1})
            self.assertEqual((r.status, r.json["from"]), (200, H1), r)
        rc, _ = self.mesh.send({"action": "list-containers", "host": H1})
        self.assertEqual(rc, 0)
        leaked = []
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            f = a.frames(0.1)
            if f and f[0].split(b"\0", 1)[0].decode() != own:
                leaked.append(f[0])
        self.assertEqual(leaked, [])
        self.assertIn("subscription refused", self.broker_log())

    def test_2_forged_replies_are_refused(self):
        cid = self.create_stubborn(H1)
        a = self.attacker
        forged_ids = []

        def forge():
            """For each stop-container request to host1: a reply as host2 (the broker forwards it,
            stamped host2; receivers refuse it) and one claiming host1 (the broker drops it)."""
            deadline = time.monotonic() + 30
            seen = 0
            while time.monotonic() < deadline and seen < 2:
                m = self.watcher.receive(0.1)
                if not m or m[1].get("action") != "stop-container" or m[1].get("attempt"):
                    continue
                seen += 1
                req = m[1]
                for who in (H2, H1):
                    rep = {"v": 1, "id": os.urandom(16).hex(), "re": req["id"], "from": who,
                           "code": 200, "body": {"forged": True}}
                    forged_ids.append(rep["id"])
                    a.pub.send_multipart([req["reply_to"].encode(), msgpack.packb(rep)])
        acl_before = self.stats()["acl"].get("agent replying as another host", 0)
        t = threading.Thread(target=forge)
        t.start()
        try:
            rc, rep = self.mesh.send({"action": "stop-container", "host": H1, "id": cid,
                                      "timeout": 2})
            cli_stderr = self.mesh.last_stderr
            self.assertEqual(rc, 0, cli_stderr)
            self.assertEqual(rep["from"], H1)
            self.assertNotIn("forged", rep.get("body") or {})
            self.assertIn("stamped 'agent:%s'" % H2, cli_stderr)
            self.mesh.send({"action": "start-container", "host": H1, "id": cid})
            r = Bridge.admin(self.mesh).send({"action": "stop-container", "host": H1, "id": cid,
                                               "timeout": 2})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["from"], H1)
            self.assertNotIn("forged", r.json.get("body") or {})
        finally:
            t.join()
        self.assertEqual(len(forged_ids), 4, "the forger saw both requests")
        wait_for(lambda: self.stats()["acl"].get("agent replying as another host", 0)
                 - acl_before >= 2, 10, message="replies claiming host1 dropped by the broker")
        self.mesh.send({"action": "remove-container", "host": H1, "id": cid, "force": True})

    def test_3_audit_log_names_the_user(self):
        admin = Bridge.admin(self.mesh)
        user = admin.make_user("auditee")
        # Requests carry the user's immutable id (not the name): the audit log records that id.
        uid = user.get("/api/v1/whoami").json["id"]
        since = int(time.time() * 1000) - 1000
        r = user.send({"action": "create-container", "host": H1, "image": IMAGE,
                       "name": "audited", "network_mode": "none", "cmd": ["sleep", "600"],
                       "env": ["SECRET_VALUE=do-not-store-me"]})
        self.assertEqual(r.status, 201, r)
        r = user.send({"action": "stop-container", "host": H1, "id": "audited", "timeout": 0})
        self.assertEqual(r.status, 200, r)

        def entries():
            rc, out = self.mesh.ctl("audit", "--user", uid, "--since", str(since))
            self.assertEqual(rc, 0, self.mesh.last_stderr)
            got = {e["action"]: e for e in out["entries"]}
            return got if {"create-container", "stop-container"} <= set(got) else None
        got = wait_for(entries, 10, message="audit entries for auditee")
        create = got["create-container"]
        self.assertEqual((create["user"], create["who"], create["host"], create["code"]),
                         (uid, "bridge:bridge", H1, 201))
        self.assertTrue(create["key"] and create["peer"].startswith("127.0.0.1"), create)
        self.assertEqual(got["stop-container"]["code"], 200)
        self.assertNotIn("do-not-store-me", json.dumps(got))
        r = admin.get("/api/v1/audit?user=%s&limit=10" % uid)
        self.assertEqual(r.status, 200, r)
        self.assertIn("create-container", [e["action"] for e in r.json["entries"]])
        self.assertEqual(user.get("/api/v1/audit").status, 403)
        self.mesh.send({"action": "remove-container", "host": H1, "id": "audited", "force": True})


if __name__ == "__main__":
    unittest.main()
