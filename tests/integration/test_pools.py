"""Host pools, cordon, drain and quotas through the real parts (three dockerds, broker, agents,
bridge, CURVE; docs/services.md "Host pools", "Quotas", "Drain and cordon"): an admin gives
host3 to Bob; Alice's create targeted at host3 is refused 403 and her scheduled creates never
land there while Bob's may; a quota of 2 containers refuses Alice's third with a message naming
the quota, and a service scaled past a memory quota is refused; a cordoned host2 takes no new
placement; host2 goes to the team "ops" (Alice and Carol, not Bob): its members place there,
targeted or scheduled, Bob never does, and Carol is cut off once she leaves the team; draining
host1 moves a 3-replica service's replica off it while the unmanaged
container there keeps running. A checker reads every dockerd directly (Docker's API over its
unix socket) and asserts where each user's containers are."""

import json
import unittest

from bridgelib import IMAGE, create_message, two_users
from meshlib import Mesh, wait_for

H1, H2, H3 = "host1.mesh.test", "host2.mesh.test", "host3.mesh.test"


class Pools(unittest.TestCase):
    def containers(self, mesh):
        """{host index: [(name, owner label, state, mesh.service label)]} from every dockerd."""
        found = {}
        for i in (1, 2, 3):
            status, items = mesh.docker(i, "GET", "/containers/json?all=1")
            self.assertEqual(status, 200, items)
            found[i] = [(c["Names"][0].lstrip("/"), c["Labels"].get("dockmesh.owner", ""),
                         c["State"], c["Labels"].get("mesh.service", "")) for c in items]
        return found

    def owned(self, mesh, owner):
        return {i: [c for c in cs if c[1] == owner] for i, cs in self.containers(mesh).items()}

    def policy(self, admin, fqdn, **body):
        r = admin.request("PUT", "/api/v1/hosts/%s/policy" % fqdn, body)
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_pools_quota_cordon_drain(self):
        with Mesh(hosts=3) as mesh:
            admin, alice, bob, alice_id, bob_id = two_users(mesh)
            self.pools(mesh, admin, alice, bob, alice_id, bob_id)
            self.quotas(mesh, admin, alice, alice_id)
            self.cordon(mesh, admin, alice, alice_id)
            self.teams(mesh, admin, alice, bob, alice_id, bob_id)
            self.drain(mesh, alice, alice_id)
            self.placement(mesh, bob_id)

    def pools(self, mesh, admin, alice, bob, alice_id, bob_id):
        self.assertEqual(alice.request("PUT", "/api/v1/hosts/%s/policy" % H3,
                                       {"pool": alice_id}).status, 403)  # admins only
        p = self.policy(admin, H3, pool=bob_id)
        self.assertEqual((p["fqdn"], p["pool"], p["cordoned"]), (H3, bob_id, False))
        hosts = {h["fqdn"]: h for h in admin.get("/api/v1/hosts").json["hosts"]}
        self.assertEqual(hosts[H3]["pool"], bob_id)
        self.assertEqual(hosts[H1]["pool"], "")

        r = alice.send(create_message(H3, name="alice-t"))
        self.assertEqual(r.status, 403, r)
        self.assertIn("another customer's pool", r.text)
        for n in range(4):  # scheduled: spread would use host3 at once if it could
            r = alice.send({"action": "create-container", "image": IMAGE, "name": "alice-%d" % n,
                            "cmd": ["sleep", "300"], "network_mode": "none"})
            self.assertEqual(r.status, 201, r)
            self.assertNotEqual(r.json.get("from"), H3, r)
        r = bob.send(create_message(H3, name="bob-t"))
        self.assertEqual(r.status, 201, r)
        mine = self.owned(mesh, alice_id)
        self.assertEqual(mine[3], [], mine)
        self.assertEqual(len(mine[1]) + len(mine[2]), 4, mine)
        self.assertEqual([c[0] for c in self.owned(mesh, bob_id)[3]], ["bob-t"])
        # Image distribution to "my pools": one job, one pull per host of the caller's pools and
        # the shared pool (nothing listens on 127.0.0.1:1, so each pull fails at once: the hosts
        # the job chose are what is checked here).
        for who, expected in ((alice, {H1, H2}), (bob, {H1, H2, H3})):
            r = who.post("/api/v1/images/pull", {"image": "127.0.0.1:1/none:latest"})
            self.assertEqual(r.status, 202, r)
            final = who.wait_job(r.json["id"], timeout=60)
            self.assertEqual(set(final.json["progress"]["hosts"]), expected, final)

    def quotas(self, mesh, admin, alice, alice_id):
        r = admin.request("PUT", "/api/v1/quotas/" + alice_id, {"containers": 5})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(alice.request("PUT", "/api/v1/quotas/" + alice_id,
                                       {"containers": 50}).status, 403)
        self.assertEqual(alice.get("/api/v1/quotas").json["quotas"][0]["containers"], 5)
        r = alice.send({"action": "create-container", "image": IMAGE, "name": "alice-q1",
                        "cmd": ["sleep", "300"], "network_mode": "none"})
        self.assertEqual(r.status, 201, r)  # the 5th
        r = alice.send({"action": "create-container", "image": IMAGE, "name": "alice-q2",
                        "cmd": ["sleep", "300"], "network_mode": "none"})
        self.assertEqual(r.status, 403, r)
        self.assertIn("quota", r.text)
        self.assertIn("you may have 5 containers", r.text)
        # Services: replicas x memory against a memory quota.
        rc, out = mesh.ctl("quota", "set", alice_id, "--containers", "0",
                           "--memory", str(256 << 20))
        self.assertEqual(rc, 0, out)
        self.assertEqual(alice.post("/api/v1/projects", {"name": "shop"}).status, 201)
        spec = {"image": IMAGE, "cmd": ["sleep", "300"], "replicas": 0, "memory": 64 << 20}
        r = alice.post("/api/v1/services", {"project": "shop", "name": "web", "spec": spec})
        self.assertEqual(r.status, 201, r)
        r = alice.post("/api/v1/services/%s/scale" % r.json["id"], {"replicas": 5})
        self.assertEqual(r.status, 403, r)
        self.assertIn("memory quota", r.text)
        rc, out = mesh.ctl("quota", "set", alice_id, "--containers", "0", "--memory", "0")
        self.assertEqual(rc, 0, out)

    def cordon(self, mesh, admin, alice, alice_id):
        rc, out = mesh.ctl("hosts", "cordon", H2)
        self.assertEqual(rc, 0, out)
        self.assertTrue(out["cordoned"])
        before = len(self.owned(mesh, alice_id)[2])
        for n in range(3):
            r = alice.send({"action": "create-container", "image": IMAGE, "name": "alice-c%d" % n,
                            "cmd": ["sleep", "300"], "network_mode": "none"})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json.get("from"), H1, r)
        mine = self.owned(mesh, alice_id)
        self.assertEqual(len(mine[2]), before, mine)
        self.assertEqual(mine[3], [], mine)
        rc, out = mesh.ctl("hosts", "uncordon", H2)
        self.assertEqual(rc, 0, out)

    def teams(self, mesh, admin, alice, bob, alice_id, bob_id):
        carol = admin.make_user("carol")
        carol_id = carol.get("/api/v1/whoami").json["id"]
        self.assertEqual(alice.request("PUT", "/api/v1/teams/ops",
                                       {"members": [alice_id]}).status, 403)  # admins only
        r = admin.request("PUT", "/api/v1/teams/ops", {"members": [carol_id, alice_id]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["members"], sorted([alice_id, carol_id]))
        self.assertEqual(admin.request("PUT", "/api/v1/teams/Ops", {"members": []}).status, 400)
        rc, out = mesh.ctl("hosts", "pool", H2, "team:nope")
        self.assertNotEqual(rc, 0, out)  # 404: no such team
        rc, out = mesh.ctl("hosts", "pool", H2, "team:ops")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out["pool"], "team:ops")
        self.assertEqual([t["name"] for t in alice.get("/api/v1/teams").json["teams"]], ["ops"])
        self.assertEqual(bob.get("/api/v1/teams").json["teams"], [])

        only_h2 = {"action": "create-container", "image": IMAGE, "cmd": ["sleep", "300"],
                   "network_mode": "none", "candidates": [H2]}
        for who, name in ((alice, "alice-team"), (carol, "carol-team")):
            r = who.send(create_message(H2, name=name))
            self.assertEqual(r.status, 201, r)
            r = who.send(dict(only_h2, name=name + "-s"))  # scheduled, host2 its only choice
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json.get("from"), H2, r)
        r = bob.send(create_message(H2, name="bob-team"))
        self.assertEqual(r.status, 403, r)
        self.assertIn("another customer's pool", r.text)
        r = bob.send(dict(only_h2, name="bob-team-s"))
        self.assertEqual(r.status, 503, r)
        for n in range(3):  # spread: Bob may use host1 and host3, never host2
            r = bob.send({"action": "create-container", "image": IMAGE, "name": "bob-s%d" % n,
                          "cmd": ["sleep", "300"], "network_mode": "none"})
            self.assertEqual(r.status, 201, r)
            self.assertNotEqual(r.json.get("from"), H2, r)
        self.assertEqual(self.owned(mesh, bob_id)[2], [])
        self.assertEqual(len(self.owned(mesh, carol_id)[2]), 2)
        # Image distribution to "my pools" takes the team's host for a member (not Bob's host3).
        r = alice.post("/api/v1/images/pull", {"image": "127.0.0.1:1/none:latest"})
        self.assertEqual(r.status, 202, r)
        final = alice.wait_job(r.json["id"], timeout=60)
        self.assertEqual(set(final.json["progress"]["hosts"]), {H1, H2}, final)

        rc, out = mesh.ctl("teams", "set", "ops", alice_id)  # Carol leaves the team
        self.assertEqual(rc, 0, out)
        self.assertEqual(out["members"], [alice_id])
        r = carol.send(create_message(H2, name="carol-after"))
        self.assertEqual(r.status, 403, r)
        r = carol.send(dict(only_h2, name="carol-after-s"))
        self.assertEqual(r.status, 503, r)
        r = alice.send(create_message(H2, name="alice-after"))
        self.assertEqual(r.status, 201, r)

        r = admin.request("DELETE", "/api/v1/teams/ops")
        self.assertEqual(r.status, 409, r)  # it still owns host2
        self.assertIn(H2, r.text)
        rc, out = mesh.ctl("hosts", "pool", H2, "shared")
        self.assertEqual(rc, 0, out)
        rc, out = mesh.ctl("teams", "delete", "ops")
        self.assertEqual(rc, 0, out)
        rc, out = mesh.ctl("teams", "list")
        self.assertEqual((rc, out["teams"]), (0, []), out)

    def drain(self, mesh, alice, alice_id):
        rc, out = mesh.ctl("projects", "create", "ops")
        self.assertEqual(rc, 0, out)
        rc, out = mesh.ctl("services", "create", "ops", "api", "--image", IMAGE, "--replicas", "3",
                           "--spec", json.dumps({"cmd": ["sleep", "600"]}))
        self.assertEqual(rc, 0, out)
        sid = out["id"]

        def spread():
            found = self.containers(mesh)
            per = {i: [c for c in cs if c[3] == sid and c[2] == "running"] for i, cs in found.items()}
            return per if all(len(per[i]) == 1 for i in (1, 2, 3)) else None
        wait_for(spread, 30, message="3 replicas over 3 hosts")
        # An unmanaged container of Alice's on host1 that stops at once on SIGTERM (for --all).
        r = alice.send(create_message(H1, name="alice-trap",
                                      cmd=("sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait")))
        self.assertEqual(r.status, 201, r)
        unmanaged = [c for c in self.owned(mesh, alice_id)[1] if c[2] == "running"]
        self.assertTrue(unmanaged)

        rc, out = mesh.ctl("hosts", "drain", H1, "--batch", "1", "--deadline", "60")
        self.assertEqual(rc, 0, out)
        self.assertTrue(out["draining"])

        def drained():
            found = self.containers(mesh)
            on1 = [c for c in found[1] if c[3] == sid]
            elsewhere = [c for i in (2, 3) for c in found[i] if c[3] == sid and c[2] == "running"]
            return found if not on1 and len(elsewhere) == 3 else None
        found = wait_for(drained, 40, message="host1 drained of the service")
        still = {c[0]: c[2] for c in found[1] if c[1] == alice_id}
        for name, _, _, _ in unmanaged:
            self.assertEqual(still.get(name), "running", still)
        rc, out = mesh.ctl("hosts", "policies")
        self.assertEqual(rc, 0, out)
        h1 = [p for p in out["policies"] if p["fqdn"] == H1][0]
        self.assertEqual(h1["replicas_left"], 0)
        # --all: the containers of no service are stopped, not removed.
        rc, out = mesh.ctl("hosts", "drain", H1, "--all")
        self.assertEqual(rc, 0, out)
        self.assertTrue(out["drain"]["all"])

        def stopped():
            states = {c[0]: c[2] for c in self.owned(mesh, alice_id)[1]}
            return states if states.get("alice-trap") == "exited" else None
        wait_for(stopped, 30, message="alice-trap stopped by drain --all")
        rc, out = mesh.ctl("hosts", "undrain", H1)
        self.assertEqual(rc, 0, out)

    def placement(self, mesh, bob_id):
        """placement.pool keeps a service's replicas in one pool (host3 is Bob's); placement
        strategy pack puts a service's replicas on one host."""
        made = {}
        for name, placement in (("pooled", {"pool": bob_id}), ("packed", {"strategy": "pack"})):
            spec = {"cmd": ["sleep", "600"], "placement": placement}
            rc, out = mesh.ctl("services", "create", "ops", name, "--image", IMAGE, "--replicas",
                               "2", "--spec", json.dumps(spec))
            self.assertEqual(rc, 0, out)
            made[name] = out["id"]

        def placed():
            found = self.containers(mesh)
            hosts = {name: sorted(i for i, cs in found.items() for c in cs
                                  if c[3] == sid and c[2] == "running")
                     for name, sid in made.items()}
            return hosts if all(len(h) == 2 for h in hosts.values()) else None
        hosts = wait_for(placed, 30, message="2 replicas of each service running")
        self.assertEqual(hosts["pooled"], [3, 3], hosts)
        self.assertEqual(len(set(hosts["packed"])), 1, hosts)


if __name__ == "__main__":
    unittest.main()
