"""The agent under adverse conditions, on a real one-host mesh: ownership between users,
retries with the same request id (also across an agent restart), heartbeats while Docker is
slow, dockerd going away and coming back under a running agent, and a clean SIGTERM.

Requests are sent with an independent python bus client (agent_bus.AgentBus) so that `user`,
`role`, `id` and `attempt` can be set as the bridge and a retrying requester would set them.
Tests run in name order on one mesh.
"""

import os
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_bus import AgentBus, host_record, start_process, stop_process  # noqa: E402
from meshlib import BUILD_DIR, Mesh, wait_for  # noqa: E402

H1 = "host1.mesh.test"
IMAGE = "local/busybox:latest"
ANN = "ann/"
EVT = "evt/host/%s/" % H1
AGENT = os.path.join(BUILD_DIR, "bin", "dockmesh-agent")


class AgentResilienceTest(unittest.TestCase):
    mesh = None
    bus = None
    started = []

    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1, bridge=False).up()
        try:
            cls.bus = AgentBus(cls.mesh)
            cls.bus.subscribe(ANN)
            cls.bus.subscribe(EVT)
        except Exception:
            cls.mesh.dump_logs()
            cls.mesh.down()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.bus:
            cls.bus.close()
        if cls.mesh:
            cls.mesh.down()
        for p in cls.started:
            if p.poll() is None:
                p.wait(timeout=30)

    def tearDown(self):
        result = getattr(self._outcome, "result", None)
        if result and any(t is self for t, _ in result.failures + result.errors):
            self.mesh.dump_logs()

    # ------------------------------------------------------------------ helpers

    def call(self, action, body=None, user="admin", role="admin", timeout=30.0, **fields):
        return self.bus.request(H1, action, body, user=user, role=role, timeout=timeout, **fields)

    def as_user(self, user, action, body=None, **fields):
        return self.call(action, body, user=user, role="user", **fields)

    def code(self, reply):
        return reply.get("code"), reply.get("error", {}).get("message", "")

    def inspect(self, ref):
        status, info = self.mesh.docker(1, "GET", "/containers/%s/json" % ref)
        return info if status == 200 else None

    def with_label(self, label):
        status, items = self.mesh.docker(1, "GET", '/containers/json?all=1&filters={"label":["%s"]}' % label)
        self.assertEqual(status, 200)
        return items

    def next_announcement(self, predicate, timeout=15.0):
        """The next ann/ message from host1 for which predicate(envelope) holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.bus.receive(deadline - time.monotonic())
            if m and m[0] == ANN and m[1].get("from") == H1 and predicate(m[1]):
                return m[1]
        raise AssertionError("no matching announcement from %s in %.0fs" % (H1, timeout))

    def restart_agent(self):
        old = host_record(self.mesh, H1)["incarnation"]
        argv = stop_process(self.mesh, "agent-host1")
        self.started.append(start_process(self.mesh, "agent-host1", argv))
        wait_for(lambda: (lambda h: h and h["incarnation"] != old and h["status"] == "up")(host_record(self.mesh, H1)),
                 timeout=20, message="the restarted agent to register")

    # ------------------------------------------------------------------ ownership

    def test_1_ownership(self):
        made = self.as_user("alice", "create-container", {"image": IMAGE, "name": "alice-box", "network_mode": "none",
                                                          "cmd": ["sleep", "300"]})
        self.assertEqual(made["code"], 201, made)
        cid = made["body"]["id"]
        self.assertEqual(self.inspect(cid)["Config"]["Labels"]["dockmesh.owner"], "alice")
        # Another user can do nothing to it, and Docker is never told to.
        for action, body in [("inspect-container", {"id": "alice-box"}), ("stop-container", {"id": cid}),
                             ("start-container", {"id": cid}), ("restart-container", {"id": cid}),
                             ("kill-container", {"id": cid}), ("remove-container", {"id": cid, "force": True}),
                             ("delete-container", {"id": cid}), ("container-logs", {"id": cid}),
                             ("container-stats", {"id": cid})]:
            with self.subTest(action=action):
                code, message = self.code(self.as_user("bob", action, body))
                self.assertEqual(code, 404)  # exactly like a missing container
                self.assertIn("no container", message)
        self.assertTrue(self.inspect(cid)["State"]["Running"])
        # Lists: users see their own, admins everything.
        ids = lambda r: [c["id"] for c in r["body"]["containers"]]  # noqa: E731
        self.assertEqual(ids(self.as_user("bob", "list-containers")), [])
        self.assertEqual(ids(self.as_user("alice", "list-containers")), [cid])
        self.assertIn(cid, ids(self.call("list-containers")))
        self.assertEqual(self.as_user("bob", "disk-usage")["body"]["containers"], [])
        # A container nobody labelled (made behind the mesh's back) is for admins only.
        status, stray = self.mesh.docker(1, "POST", "/containers/create?name=stray",
                                         {"Image": IMAGE, "Cmd": ["sleep", "300"], "HostConfig": {"NetworkMode": "none"}})
        self.assertEqual(status, 201, stray)
        code, message = self.code(self.as_user("alice", "inspect-container", {"id": "stray"}))
        self.assertEqual(code, 404)
        self.assertIn("no container", message)
        self.assertNotIn(stray["Id"], ids(self.as_user("alice", "list-containers")))
        self.assertEqual(self.call("inspect-container", {"id": "stray"})["code"], 200)
        # No user at all: nothing to own or act on.
        self.assertEqual(self.call("create-container", {"image": IMAGE}, user="", role="user")["code"], 403)
        self.assertEqual(self.call("inspect-container", {"id": cid}, user="", role="user")["code"], 404)
        # The owner can.
        self.assertEqual(self.as_user("alice", "stop-container", {"id": "alice-box", "timeout": 0})["code"], 200)
        self.assertEqual(self.as_user("alice", "remove-container", {"id": "alice-box"})["code"], 200)
        self.assertIsNone(self.inspect(cid))
        self.assertEqual(self.call("remove-container", {"id": "stray", "force": True})["code"], 200)

    # ------------------------------------------------------------------ idempotency

    def test_2_a_retry_gets_the_first_answer(self):
        rid = uuid.uuid4().hex
        body = {"image": IMAGE, "name": "once", "network_mode": "none", "cmd": ["sleep", "300"]}
        first = self.as_user("alice", "create-container", body, id=rid)
        self.assertEqual(first["code"], 201, first)
        again = self.as_user("alice", "create-container", body, id=rid, attempt=1)
        self.assertEqual(again["code"], 201)
        self.assertEqual(again["body"], first["body"])
        self.assertEqual(len(self.with_label("dockmesh.request=" + rid)), 1)
        # The same id from someone else is refused, not answered with alice's reply.
        code, message = self.code(self.as_user("mallory", "create-container", body, id=rid, attempt=2))
        self.assertEqual(code, 409)
        self.assertNotIn(first["body"]["id"], message)
        # A request whose deadline passed is not started.
        late = self.as_user("alice", "create-container", dict(body, name="late"),
                            deadline_ms=int(time.time() * 1000) - 1000)
        self.assertEqual(late["code"], 504)
        self.assertIsNone(self.inspect("late"))

    def test_3_idempotent_create_across_an_agent_restart(self):
        rid = uuid.uuid4().hex
        body = {"image": IMAGE, "name": "pair", "instances": 2, "network_mode": "none", "cmd": ["sleep", "300"]}
        first = self.as_user("alice", "create-container", body, id=rid)
        self.assertEqual(first["code"], 201, first)
        self.restart_agent()  # the request cache is gone with the old process
        again = self.as_user("alice", "create-container", body, id=rid, attempt=1)
        self.assertEqual(again["code"], 200, again)
        self.assertEqual(again["body"]["note"], "already created by an earlier attempt of this request")
        self.assertEqual([c["id"] for c in again["body"]["containers"]],
                         [c["id"] for c in first["body"]["containers"]])
        self.assertTrue(all(c["reused"] for c in again["body"]["containers"]))
        self.assertEqual(len(self.with_label("dockmesh.request=" + rid)), 2)
        # One instance lost meanwhile: a retry that the cache cannot answer (another restart)
        # recreates exactly that one.
        self.assertEqual(self.mesh.docker(1, "DELETE", "/containers/pair-2?force=1")[0], 204)
        self.restart_agent()
        third = self.as_user("alice", "create-container", body, id=rid, attempt=2)
        self.assertEqual(third["code"], 201, third)
        self.assertEqual([c["reused"] for c in third["body"]["containers"]], [True, False])
        self.assertEqual(sorted(c["Names"][0] for c in self.with_label("dockmesh.request=" + rid)),
                         ["/pair-1", "/pair-2"])

    # ------------------------------------------------------------------ slow Docker, heartbeats

    def test_4_heartbeats_keep_time_while_docker_is_slow(self):
        made = self.call("create-container", {"image": IMAGE, "name": "slowstop", "network_mode": "none",
                                              "cmd": ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"]})
        self.assertEqual(made["code"], 201, made)
        beats = []
        rid = uuid.uuid4().hex
        env = self.bus.envelope("stop-container", {"id": "slowstop", "timeout": 4}, id=rid)
        self.bus.publish("req/host/%s/" % H1, env)
        # A retry while the first attempt runs must not start a second stop.
        self.bus.publish("req/host/%s/" % H1, dict(env, attempt=1))
        replies = []

        def other(topic, e):
            if topic == ANN and e.get("from") == H1 and e.get("action") == "heartbeat":
                beats.append(time.monotonic())
            if e.get("re") == rid:
                replies.append(e)
        t0 = time.monotonic()
        reply = self.bus.wait_reply(rid, timeout=30, other=other)
        took = time.monotonic() - t0
        self.assertEqual(reply["code"], 200, reply)
        self.assertGreaterEqual(took, 3.5)
        self.assertGreaterEqual(len(beats), 3, "heartbeats while the stop ran")
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        self.assertLess(max(gaps), 1.6, gaps)
        # Nothing else answered meanwhile, and a later retry gets the cached answer at once.
        self.assertEqual(replies, [])
        t1 = time.monotonic()
        cached = self.bus.request(H1, "stop-container", {"id": "slowstop", "timeout": 4}, id=rid, attempt=2)
        self.assertLess(time.monotonic() - t1, 1.0)
        self.assertEqual(cached["body"], reply["body"])
        self.assertEqual(self.call("remove-container", {"id": "slowstop"})["code"], 200)

    def test_45_reannounce_brings_register_and_inventory(self):
        self.bus.publish("req/all/", self.bus.envelope("reannounce", {}))
        seen = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and seen != {"register", "inventory"}:
            m = self.bus.receive(deadline - time.monotonic())
            if m and m[0] == ANN and m[1].get("from") == H1 and m[1].get("action") in ("register", "inventory"):
                seen.add(m[1]["action"])
                self.assertEqual(m[1]["body"]["fqdn"], H1)
        self.assertEqual(seen, {"register", "inventory"})

    # ------------------------------------------------------------------ dockerd goes away

    def test_5_dockerd_restart_under_a_running_agent(self):
        argv = stop_process(self.mesh, "dockerd-host1", timeout=60)
        down = self.next_announcement(lambda e: e["action"] == "heartbeat" and not e["body"]["docker_up"])
        self.assertEqual(down["body"]["fqdn"], H1)
        for action, body in [("ping", None), ("list-containers", None), ("host-info", None)]:
            code, message = self.code(self.call(action, body))
            self.assertEqual(code, 503, message)
            self.assertIn("dockerd is not reachable at %s" % self.mesh.socket_path(1), message)
        rc, _ = self.mesh.ctl("send", "--host", H1, '{"action": "ping"}')
        self.assertNotEqual(rc, 0)
        self.assertIn("503", self.mesh.last_stderr)

        self.started.append(start_process(self.mesh, "dockerd-host1", argv))
        self.next_announcement(lambda e: e["action"] == "heartbeat" and e["body"]["docker_up"], timeout=60)
        self.assertEqual(self.call("ping")["code"], 200)
        # Events and inventory resumed: a new container shows up on evt/ and in the directory.
        seen = []
        keep = lambda t, e: seen.append(e) if t == EVT and e.get("action") == "docker-event" else None  # noqa: E731
        made = self.bus.request(H1, "create-container", {"image": IMAGE, "name": "after", "network_mode": "none",
                                                         "cmd": ["sleep", "300"]}, other=keep)
        self.assertEqual(made["code"], 201, made)
        cid = made["body"]["id"]
        started = lambda: any(e["body"].get("id") == cid and e["body"]["action"] == "start" for e in seen)  # noqa: E731
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not started():
            m = self.bus.receive(deadline - time.monotonic())
            if m:
                keep(*m)
        self.assertTrue(started(), seen)
        # The agent announced its inventory before it replied: the directory already lists it.
        self.assertTrue(any(c.get("id") == cid for c in (self.mesh.ctl("containers")[1] or {}).get("containers", [])),
                        "the directory does not list the acknowledged container")

    # ------------------------------------------------------------------ clean stop

    def test_6_sigterm_unregisters(self):
        pid = self.mesh.pid("agent-host1")
        t0 = time.monotonic()
        argv = stop_process(self.mesh, "agent-host1")
        self.assertLess(time.monotonic() - t0, 5)
        gone = self.next_announcement(lambda e: e["action"] == "unregister")
        self.assertEqual(gone["body"]["fqdn"], H1)
        wait_for(lambda: (host_record(self.mesh, H1) or {}).get("status") == "down", timeout=10,
                 message="the directory to mark host1 down")
        self.assertIsNotNone(pid)
        # Started again, its very first register already carries the host's facts (the broker
        # schedules on them), not zeros filled in by a later heartbeat.
        self.started.append(start_process(self.mesh, "agent-host1", argv))
        first = self.next_announcement(lambda e: e["action"] == "register", timeout=20)["body"]
        self.assertTrue(first["docker_up"], first)
        self.assertGreater(first["cpus"], 0, first)
        self.assertGreater(first["memory_bytes"], 0, first)
        self.assertTrue(first["docker_version"], first)


    # ------------------------------------------------------------------ enrollment

    def test_7_join_token_enrolls_a_new_agent(self):
        rc, token = self.mesh.ctl("keys", "token", "create", "--ttl", "120")
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        key = self.mesh.path("host9.key")
        rc, _ = self.mesh.ctl("keygen", "--out", key)
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        argv = [AGENT, "--fqdn", "host9.mesh.test", "--docker-socket", self.mesh.socket_path(1),
                "--broker", "127.0.0.1:%d" % self.mesh.base_port, "--broker-key", self.mesh.path("broker.pub"),
                "--key", key, "--join-token", token["token"]]
        self.started.append(start_process(self.mesh, "agent-host9", argv))
        wait_for(lambda: (host_record(self.mesh, "host9.mesh.test") or {}).get("status") == "up", timeout=20,
                 message="host9 to enroll and register")
        self.assertEqual(self.bus.request("host9.mesh.test", "ping")["code"], 200)
        # A second agent with the spent token stays pending, and says so.
        key2 = self.mesh.path("host8.key")
        self.mesh.ctl("keygen", "--out", key2)
        argv2 = [a if a != key else key2 for a in argv]
        argv2[argv2.index("host9.mesh.test")] = "host8.mesh.test"
        self.started.append(start_process(self.mesh, "agent-host8", argv2))
        def log_says_pending():
            with open(self.mesh.path("logs", "agent-host8.log")) as f:
                return "pending" in f.read()
        wait_for(log_says_pending, timeout=20, message="host8's agent to report its key pending")
        self.assertIsNone(host_record(self.mesh, "host8.mesh.test"))
        for name in ("agent-host9", "agent-host8"):
            stop_process(self.mesh, name)


if __name__ == "__main__":
    unittest.main()
