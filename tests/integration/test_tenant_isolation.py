"""Tenant isolation played as an attacker, on a real one-host mesh (dockerd, broker, agent, bridge,
CURVE): a plain user, through the bridge, and an admin-role bus client acting on a user's behalf,
try every create field that would reach another tenant or the host, another user's container and
volume, a re-created user name, the 403-vs-404 oracle, another user's pull events and disk-usage.
Every probe must be refused with an error naming the field (or answer exactly like a missing
container), and nothing of another tenant may become visible. See SECURITY.md."""

import glob
import os
import unittest

from agent_bus import AgentBus
from bridgelib import IMAGE, LocalRegistry, create_message, two_users
from meshlib import Mesh, wait_for

SECRET = "hunter2-tenant-marker"

# (create fields, the field the refusal must name). The first group no policy can lift; the
# second is each host's policy (defaults), checked by the agent.
FIXED = [({"privileged": True}, "privileged"), ({"cap_add": ["SYS_ADMIN"]}, "cap_add"),
         ({"devices": ["/dev/sda:/dev/sda"]}, "devices"), ({"sysctls": {"net.ipv4.ip_forward": "1"}}, "sysctls"),
         ({"security_opt": ["seccomp=unconfined"]}, "security_opt"), ({"pid_mode": "host"}, "pid_mode"),
         ({"ipc_mode": "host"}, "ipc_mode"), ({"uts_mode": "host"}, "uts_mode")]
HOST_POLICY = [({"network_mode": "host"}, "network_mode"), ({"binds": ["/etc:/x"]}, "binds[0]"),
               ({"binds": ["/:/host:ro"]}, "binds[0]"),
               ({"ports": [{"container_port": 80, "host_port": 80}]}, "ports[0].host_port")]


class TenantIsolation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1).up()
        cls.h1 = cls.mesh.fqdn(1)
        cls.admin, cls.alice, cls.bob, cls.alice_id, cls.bob_id = two_users(cls.mesh)
        cls.bus = AgentBus(cls.mesh)
        # Alice's container (holding a secret in its env) and her named volume.
        r = cls.alice.send(cls.spec("alice-box", env=["TOKEN=" + SECRET], binds=["alicedata:/data"]))
        assert r.status == 201, r
        cls.alice_box = r.json["body"]["id"]

    @classmethod
    def tearDownClass(cls):
        cls.bus.close()
        cls.mesh.down()

    @classmethod
    def spec(cls, name=None, **extra):
        return create_message(cls.h1, name, **extra)

    def assert_refused(self, r, field, status=403):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.error()[1].startswith("field '%s'" % field), r)

    def test_1_forbidden_create_fields_through_the_bridge(self):
        before = self.mesh.container_ids(1)
        probes = FIXED + HOST_POLICY + [
            ({"network_mode": "container:" + self.alice_box}, "network_mode"),
            ({"network_mode": "container:alice-box"}, "network_mode"),
            ({"binds": ["alicedata:/stolen"]}, "binds[0]"),
            ({"instances": 2, "network_mode": "host"}, "network_mode")]
        for extra, field in probes:
            with self.subTest(field=field, extra=extra):
                self.assert_refused(self.bob.send(self.spec(**extra)), field)
        # The job path refuses the fixed fields before it accepts anything.
        self.assert_refused(self.bob.post("/api/v1/containers", dict(self.spec(), privileged=True)), "privileged")
        # Scheduled (no host): the scheduler places it, the agent refuses it.
        r = self.bob.send({k: v for k, v in self.spec(network_mode="host").items() if k != "host"})
        self.assert_refused(r, "network_mode")
        self.assertEqual(self.mesh.container_ids(1), before)
        self.assertEqual(self.bob.get("/api/v1/containers").json["containers"], [])

    def test_2_the_same_probes_as_bus_requests_on_behalf_of_a_user(self):
        before = self.mesh.container_ids(1)
        probes = FIXED + HOST_POLICY + [({"network_mode": "container:" + self.alice_box}, "network_mode"),
                                        ({"binds": ["alicedata:/stolen"]}, "binds[0]")]
        for extra, field in probes:
            with self.subTest(field=field):
                body = {"image": IMAGE, "cmd": ["sleep", "1"]}
                body.update(extra)
                rep = self.bus.request(self.h1, "create-container", body, user=self.bob_id, role="user")
                self.assertEqual(rep["code"], 403, rep)
                self.assertTrue(rep["error"]["message"].startswith("field '%s'" % field), rep)
        self.assertEqual(self.mesh.container_ids(1), before)
        # A role the agent does not know is a plain user, never an admin.
        rep = self.bus.request(self.h1, "create-container", {"image": IMAGE, "privileged": True},
                               user=self.bob_id, role="Admin")
        self.assertEqual(rep["code"], 403, rep)
        # Pulls: the host's registry allow-list (loopback registries only on the test mesh).
        rep = self.bus.request(self.h1, "pull-image", {"image": "registry.example.test/x:1"},
                               user=self.bob_id, role="user")
        self.assertEqual(rep["code"], 403, rep)
        self.assertTrue(rep["error"]["message"].startswith("field 'image'"), rep)

    def test_3_another_users_container_answers_like_a_missing_one(self):
        for ref in (self.alice_box, self.alice_box[:12], "alice-box"):
            for action in ("inspect-container", "stop-container", "container-logs"):
                mine = self.bob.send({"action": action, "id": ref})
                missing = self.bob.send({"action": action, "id": "nosuch" + ref[:6]})
                self.assertEqual((mine.status, missing.status), (404, 404), (ref, mine, missing))
                self.assertEqual(mine.error(), ("not_found", "no container '%s'" % ref))
                self.assertEqual(missing.error()[0], "not_found")
            self.assertEqual(self.bob.get("/api/v1/containers/" + ref).status, 404)
        rep = self.bus.request(self.h1, "inspect-container", {"id": "alice-box"}, user=self.bob_id, role="user")
        self.assertEqual((rep["code"], rep["error"]["message"]), (404, "no container 'alice-box'"), rep)
        self.assertEqual(self.alice.send({"action": "inspect-container", "id": "alice-box"}).status, 200)

    def test_4_a_recreated_user_name_gets_a_new_id_and_nothing_of_the_old(self):
        carol = self.admin.make_user("carol")
        old_id = carol.get("/api/v1/whoami").json["id"]
        r = carol.send(self.spec("carol-box"))
        self.assertEqual(r.status, 201, r)
        cid = r.json["body"]["id"]
        self.assertEqual(self.admin.delete("/api/v1/users/carol").status, 200)
        self.assertEqual(carol.get("/api/v1/whoami").status, 401)
        carol2 = self.admin.make_user("carol")
        self.assertNotEqual(carol2.get("/api/v1/whoami").json["id"], old_id)
        self.assertEqual(carol2.send({"action": "inspect-container", "id": cid}).status, 404)
        self.assertEqual(carol2.get("/api/v1/containers").json["containers"], [])
        # The old container is admin-only now, and listed for clean-up.
        self.assertEqual(self.bob.get("/api/v1/containers?orphaned=1").status, 403)
        orphans = wait_for(lambda: [c for c in self.admin.get("/api/v1/containers?orphaned=1").json["containers"]
                                    if c["id"] == cid], timeout=10, message="the orphan listed")
        self.assertEqual(orphans[0]["owner"], old_id)
        listed = [c["id"] for c in self.admin.get("/api/v1/containers?orphaned=1").json["containers"]]
        self.assertNotIn(self.alice_box, listed)
        self.assertEqual(self.admin.send({"action": "remove-container", "id": cid, "force": True}).status, 200)

    def test_5_disk_usage_names_only_the_callers_volumes_and_containers(self):
        def usage(who):
            r = who.send({"action": "disk-usage", "host": self.h1})
            self.assertEqual(r.status, 200, r)
            return r.json["body"]
        bob, alice, admin = usage(self.bob), usage(self.alice), usage(self.admin)
        self.assertEqual([v["name"] for v in bob["volumes"]], [])
        self.assertNotIn("alice-box", [c["name"] for c in bob["containers"]])
        self.assertEqual(bob["summary"]["containers"]["count"], len(bob["containers"]))
        self.assertIn("alicedata", [v["name"] for v in alice["volumes"]])
        self.assertIn("alicedata", [v["name"] for v in admin["volumes"]])
        status, vol = self.mesh.docker(1, "GET", "/volumes/alicedata")
        self.assertEqual((status, vol["Labels"].get("dockmesh.owner")), (200, self.alice_id))

    def test_6_pull_events_reach_the_puller_and_admins_only(self):
        registry = LocalRegistry(self.mesh)
        try:
            ref = registry.push_from(self.mesh, 1, IMAGE, "tenantpull")
            bob_ws, admin_ws = self.bob.websocket(), self.admin.websocket()
            try:
                r = self.alice.post("/api/v1/images/pull", {"image": ref, "hosts": [self.h1],
                                                             "auth": {"username": "a", "password": SECRET}})
                self.assertEqual(r.status, 202, r)
                final = self.alice.wait_job(r.json["id"])
                self.assertEqual(final.json["state"], "done", final)
                admin_ws.next(lambda f: f.get("type") == "event" and f["event"]["action"] == "pull-progress")
                # A marker bob must see, sent after the pull: everything before it is checked.
                made = self.bob.send(self.spec("bob-marker"))
                self.assertEqual(made.status, 201, made)
                seen = []
                bob_ws.next(lambda f: seen.append(f) or (f.get("type") == "event" and
                                                         "bob-marker" in str(f.get("event"))), timeout=15)
                leaks = [f for f in seen if "pull" in str(f.get("event", {}).get("action")) or
                         "tenantpull" in str(f)]
                self.assertEqual(leaks, [])
            finally:
                bob_ws.close()
                admin_ws.close()
        finally:
            registry.close()

    def test_7_the_effective_policy_is_published_and_secrets_stay_out_of_logs(self):
        r = self.bob.get("/api/v1/policy")
        self.assertEqual(r.status, 200, r)
        self.assertIn("privileged", r.json["forbidden_fields"])
        r = self.bob.get("/api/v1/policy?host=" + self.h1)
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["policy"]["host_network"])
        self.assertIn("localhost", r.json["policy"]["registries"])
        # The secret env value and the registry password (test 6) reached no log and no stored
        # record of the bridge (users, tokens, jobs: RocksDB files and WAL).
        files = [self.mesh.path("logs", n) for n in ("broker.log", "agent-host1.log", "bridge.log")]
        files += [f for f in glob.glob(self.mesh.path("bridge", "**"), recursive=True) if os.path.isfile(f)]
        for path in files:
            with open(path, "rb") as f:
                self.assertNotIn(SECRET.encode(), f.read(), path)


if __name__ == "__main__":
    unittest.main()
