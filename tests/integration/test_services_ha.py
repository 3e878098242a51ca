"""Projects and services on three brokers that agree through etcd (scripts/mesh.sh up
--brokers 3): a write through the bridge is applied once, by one broker, and every broker holds
the result. The bridge sends a control call that changes state (the catalogue's changes_state)
to one broker only; that broker writes the record to etcd (dockmesh/services/<p|s>/<id>) and
every broker applies it from its watch. The checks: each broker, asked on its own ROUTER
endpoint, lists the same records; etcd's `version` of each key counts the writes (a write sent
to every broker would count three per change); a deletion reaches every broker and etcd.
See docs/services.md."""

import base64
import json
import os
import sys
import unittest
import urllib.request

import msgpack
import zmq

from bridgelib import Bridge
from broker_harness import Control, envelope
from meshlib import Mesh, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
from faultlib import broker_public_key, read_key_file  # noqa: E402

IMAGE = "local/busybox:latest"
BROKERS = 3


class _Key:
    def __init__(self, path):
        k = read_key_file(path)
        self.public, self.secret = k["public-key"], k["secret-key"]


def etcd_call(mesh, path, body):
    url = "http://127.0.0.1:%d/v3/kv/%s" % (mesh.base_port + 12, path)
    data = json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as r:
        return json.load(r)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def etcd_key(mesh, key):
    """etcd's record of one key (version = writes since it was created), or None."""
    url = "http://127.0.0.1:%d/v3/kv/range" % (mesh.base_port + 12)
    body = json.dumps({"key": base64.b64encode(key.encode()).decode()}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=5) as r:
        kvs = json.load(r).get("kvs", [])
    return kvs[0] if kvs else None


class ServicesHa(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1, brokers=BROKERS).up()
        cls.admin = Bridge.admin(cls.mesh)
        cls.alice = cls.admin.make_user("alice")
        cls.ctx = zmq.Context()
        key = _Key(cls.mesh.path("admin.key"))
        server = broker_public_key(cls.mesh)
        cls.brokers = [Control(cls.ctx, "tcp://127.0.0.1:%d" % (cls.mesh.broker_port(i) + 2),
                               server, key) for i in range(1, BROKERS + 1)]

    @classmethod
    def tearDownClass(cls):
        for c in cls.brokers:
            c.close()
        cls.ctx.term()
        cls.mesh.down()

    def listed_everywhere(self, action, field):
        """What each broker lists (admin: everything), as {id: record}, one dict per broker."""
        out = []
        for c in self.brokers:
            code, body = c.call(action, {}, timeout=5)
            if code != 200:
                return None
            out.append({r["id"]: r for r in body[field]})
        return out

    def wait_alike(self, action, field, predicate):
        def alike():
            seen = self.listed_everywhere(action, field)
            return seen if seen and all(s == seen[0] for s in seen) and predicate(seen[0]) else None
        return wait_for(alike, 10, message="%s alike on every broker" % action)[0]

    def test_a_write_is_applied_once_and_reaches_every_broker(self):
        a = self.alice
        r = a.post("/api/v1/projects", {"name": "shop"})
        self.assertEqual(r.status, 201, r)
        pid = r.json["id"]
        spec = {"image": IMAGE, "cmd": ["sleep", "600"], "replicas": 2}
        r = a.post("/api/v1/services", {"project": "shop", "name": "web", "spec": spec})
        self.assertEqual(r.status, 201, r)
        sid = r.json["id"]
        # The name is taken at every broker now, whichever one the next call reaches.
        self.wait_alike("service-list", "services", lambda s: sid in s)
        self.assertEqual(a.post("/api/v1/services",
                                {"project": "shop", "name": "web", "spec": spec}).status, 409)
        r = a.post("/api/v1/services/%s/scale" % sid, {"replicas": 3})
        self.assertEqual(r.status, 200, r)
        r = a.request("PATCH", "/api/v1/services/" + sid, {"cmd": ["sleep", "700"]})
        self.assertEqual((r.status, r.json["generation"]), (200, 2), r)
        r = a.post("/api/v1/services", {"project": "shop", "name": "tmp", "spec": spec})
        self.assertEqual(r.status, 201, r)
        tmp = r.json["id"]
        self.assertEqual(a.request("DELETE", "/api/v1/services/" + tmp).status, 200)

        services = self.wait_alike(
            "service-list", "services",
            lambda s: tmp not in s and s.get(sid, {}).get("generation") == 2)
        self.assertEqual(services[sid]["spec"]["replicas"], 3)
        self.assertEqual(services[sid]["spec"]["cmd"], ["sleep", "700"])
        projects = self.wait_alike("project-list", "projects", lambda p: pid in p)
        self.assertEqual(projects[pid]["name"], "shop")

        # Written once per change: create, scale, update = version 3 (sent to all three brokers,
        # each would have written it: 9). The project: created once.
        self.assertEqual(int(etcd_key(self.mesh, "dockmesh/services/s/" + sid)["version"]), 3)
        self.assertEqual(int(etcd_key(self.mesh, "dockmesh/services/p/" + pid)["version"]), 1)
        self.assertIsNone(etcd_key(self.mesh, "dockmesh/services/s/" + tmp))

    def test_b_host_policies_and_quotas_reach_every_broker(self):
        """Pools and quotas ride the same record path (dockmesh/services/h|q/...)."""
        host = self.mesh.fqdn(1)
        alice_id = self.alice.get("/api/v1/whoami").json["id"]
        r = self.admin.request("PUT", "/api/v1/hosts/%s/policy" % host,
                               {"pool": alice_id, "cordoned": True})
        self.assertEqual(r.status, 200, r)
        r = self.admin.request("PUT", "/api/v1/quotas/" + alice_id, {"containers": 3})
        self.assertEqual(r.status, 200, r)
        policies = self.wait_alike("host-policy-list", "policies",
                                   lambda p: p.get(host, {}).get("pool") == alice_id)
        self.assertTrue(policies[host]["cordoned"])
        quotas = self.wait_alike("quota-list", "quotas", lambda q: alice_id in q)
        self.assertEqual(quotas[alice_id]["containers"], 3)
        for c in self.brokers:  # every broker's `hosts` answer carries the pool
            code, body = c.call("hosts", {}, timeout=5)
            self.assertEqual(code, 200, body)
            self.assertEqual({h["fqdn"]: h["pool"] for h in body["hosts"]}[host], alice_id)
        self.assertEqual(int(etcd_key(self.mesh, "dockmesh/services/h/" + host)["version"]), 1)
        self.assertEqual(int(etcd_key(self.mesh, "dockmesh/services/q/" + alice_id)["version"]), 1)
        r = self.admin.request("PUT", "/api/v1/hosts/%s/policy" % host,
                               {"pool": "", "cordoned": False})
        self.assertEqual(r.status, 200, r)
        self.wait_alike("host-policy-list", "policies",
                        lambda p: p.get(host, {}).get("pool") == "" and
                        not p[host]["cordoned"])

    def call_at_once(self, calls):
        """Sends [(broker index, action, body)] before reading any answer; their codes."""
        sent = []
        for i, action, body in calls:
            req = envelope(action, body, reply_to="")
            self.brokers[i].sock.send_multipart([b"", msgpack.packb(req)])
            sent.append((self.brokers[i].sock, req["id"]))
        codes = []
        for sock, rid in sent:
            code = None
            while code is None and sock.poll(5000):
                rep = msgpack.unpackb(sock.recv_multipart()[-1], raw=False)
                if rep.get("re") == rid:
                    code = rep.get("code")
            codes.append(code)
        return codes

    def test_c_a_name_is_unique_across_brokers(self):
        """Two creates of one name sent to two brokers in the same instant: etcd's transaction
        (the name's claim written with the record) lets exactly one through, the other is 409
        and its record withdrawn, so every broker ends with one record of that name."""
        alice_id = self.alice.get("/api/v1/whoami").json["id"]
        for n in range(5):
            name = "race-%d" % n
            body = {"user": alice_id, "name": name}
            codes = self.call_at_once([(0, "project-create", body), (1, "project-create", body)])
            self.assertEqual(sorted(codes), [201, 409], codes)
            projects = self.wait_alike(
                "project-list", "projects",
                lambda p: sum(r["name"] == name for r in p.values()) == 1)
            held = [pid for pid, r in projects.items() if r["name"] == name]
            claim = etcd_key(self.mesh, "dockmesh/services/n/p/%s/%s" % (alice_id, name))
            self.assertEqual(base64.b64decode(claim["value"]).decode(), held[0])

        # A name etcd already gives to another record (as a create on another broker that this
        # one has not heard of yet): the create is refused, and no broker keeps its record.
        pid = held[0]
        etcd_call(self.mesh, "put", {"key": b64("dockmesh/services/n/s/%s/api" % pid),
                                     "value": b64("s-elsewhere")})
        code, reply = self.brokers[2].call(
            "service-create", {"user": alice_id, "project": pid, "name": "api",
                               "spec": {"image": IMAGE, "replicas": 0}}, timeout=5)
        self.assertEqual(code, 409, reply)
        self.assertIn("s-elsewhere", json.dumps(reply))
        self.wait_alike("service-list", "services",
                        lambda s: not any(r["name"] == "api" for r in s.values()))
        etcd_call(self.mesh, "deleterange", {"key": b64("dockmesh/services/n/s/%s/api" % pid)})
        code, reply = self.brokers[2].call(
            "service-create", {"user": alice_id, "project": pid, "name": "api",
                               "spec": {"image": IMAGE, "replicas": 0}}, timeout=5)
        self.assertEqual(code, 201, reply)
        sid = reply["id"]
        self.wait_alike("service-list", "services", lambda s: sid in s)
        # Deleting the service (on another broker) frees its name in etcd.
        code, reply = self.brokers[0].call("service-delete", {"user": alice_id, "service": sid})
        self.assertEqual(code, 200, reply)
        wait_for(lambda: etcd_key(self.mesh, "dockmesh/services/n/s/%s/api" % pid) is None, 5,
                 message="the name's claim deleted with the service")

    def test_d_teams_reach_every_broker(self):
        """A team set through the bridge is held by every broker (dockmesh/services/t/...), and
        so is its deletion."""
        alice_id = self.alice.get("/api/v1/whoami").json["id"]
        r = self.admin.request("PUT", "/api/v1/teams/ops", {"members": [alice_id]})
        self.assertEqual(r.status, 200, r)
        teams = self.wait_alike("team-list", "teams", lambda t: "ops" in t)
        self.assertEqual(teams["ops"]["members"], [alice_id])
        self.assertEqual(int(etcd_key(self.mesh, "dockmesh/services/t/ops")["version"]), 1)
        self.assertEqual([t["name"] for t in self.alice.get("/api/v1/teams").json["teams"]],
                         ["ops"])
        self.assertEqual(self.admin.request("DELETE", "/api/v1/teams/ops").status, 200)
        self.wait_alike("team-list", "teams", lambda t: "ops" not in t)
        self.assertIsNone(etcd_key(self.mesh, "dockmesh/services/t/ops"))


if __name__ == "__main__":
    unittest.main()
