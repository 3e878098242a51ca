"""Honest, immediate answers (issue 18), against one real 3-host mesh (dockerds, broker, agents,
bridge, CURVE):

- a request to a host the directory knows is down answers 503 naming the host in < 100 ms, and
  one already in flight when the host goes down ends when the directory says so, not at its
  deadline; an unknown host answers 404 naming it; containers of a down host show `unknown`;
- the README's worked example runs as a script, with no sleeps: what a create acknowledged is
  in `containers` and can be stopped by name at once;
- a burst of 6 creates on 3 idle hosts lands 2/2/2; `instances: 3` spread is named -1..-3;
- a repeated Idempotency-Key (bridge) or --request-id (CLI) yields one container, and the same
  key from another user is a different request;
- a name taken anywhere in the mesh is refused with the host that has it; an ambiguous name
  lists its candidates.

Tests run in name order on one mesh; the down-host test (test_z_*) freezes an agent, so it is
last. Each test removes what it created.
"""

import json
import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from agent_bus import AgentBus  # noqa: E402
from bridgelib import Bridge  # noqa: E402
from meshlib import Mesh, wait_for  # noqa: E402

IMAGE = "local/busybox:latest"
SLEEP = ["sleep", "600"]


class FailFastTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=3).__enter__()
        try:
            cls.bus = AgentBus(cls.mesh)
            cls.admin = Bridge.admin(cls.mesh)
        except Exception:
            cls.mesh.__exit__(*sys.exc_info())
            raise

    @classmethod
    def tearDownClass(cls):
        cls.bus.close()
        cls.mesh.__exit__(None, None, None)

    def run(self, result=None):
        failures = len(result.failures) + len(result.errors) if result else 0
        super().run(result)
        if result and len(result.failures) + len(result.errors) > failures:
            self.mesh.dump_logs()

    def tearDown(self):
        # Through the mesh, so the directory is empty when the next test places containers.
        for c in self.containers():
            r = self.bus.request(c["host"], "remove-container", {"id": c["id"], "force": True},
                                 timeout=30)
            self.assertIn(r["code"], (200, 204, 404), r)
        self.assertEqual(self.containers(), [])

    # ------------------------------------------------------------------ helpers

    def containers(self, *args):
        rc, out = self.mesh.ctl("containers", *args)
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        return out["containers"]

    def create_any(self, body):
        """A create on req/any/ (the scheduler places it): the reply envelope."""
        env = self.bus.envelope("create-container", dict(body, image=IMAGE, cmd=SLEEP))
        self.bus.publish("req/any/", env)
        return self.bus.wait_reply(env["id"], timeout=60)

    # ------------------------------------------------------------------ read your writes

    def test_a_worked_example_as_a_script(self):
        # README "A worked example", one command after the other, no sleeps.
        rc, rep = self.mesh.send({"action": "create-container", "image": IMAGE, "cmd": SLEEP,
                                  "name": "demo"})
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        self.assertEqual(rep["code"], 201, rep)
        listed = [c for c in self.containers() if c["name"] == "demo"]
        self.assertEqual(len(listed), 1, "the acknowledged create is not in `containers`")
        self.assertEqual(listed[0]["state"], "running")
        rc, rep = self.mesh.send({"action": "stop-container", "id": "demo", "timeout": 1})
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        self.assertEqual([c["state"] for c in self.containers() if c["name"] == "demo"],
                         ["exited"])
        rc, rep = self.mesh.send({"action": "remove-container", "id": "demo"})
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        self.assertEqual([c for c in self.containers() if c["name"] == "demo"], [])

    # ------------------------------------------------------------------ placement

    def test_b_burst_of_six_spreads_two_per_host(self):
        envs = [self.bus.envelope("create-container", {"image": IMAGE, "cmd": SLEEP})
                for _ in range(6)]
        for e in envs:  # back to back: none is answered before the last is placed
            self.bus.publish("req/any/", e)
        replies = {}
        deadline = time.monotonic() + 60
        while len(replies) < len(envs) and time.monotonic() < deadline:
            m = self.bus.receive(deadline - time.monotonic())
            if m and m[0] == self.bus.reply_topic:
                replies[m[1].get("re")] = m[1]
        self.assertEqual(set(replies), {e["id"] for e in envs})
        per_host = {}
        for r in replies.values():
            self.assertEqual(r["code"], 201, r)
            per_host[r["from"]] = per_host.get(r["from"], 0) + 1
        self.assertEqual(sorted(per_host.values()), [2, 2, 2], per_host)

    def test_c_sequential_creates_spread(self):
        hosts = []
        for _ in range(3):
            rc, rep = self.mesh.send({"action": "create-container", "image": IMAGE, "cmd": SLEEP})
            self.assertEqual(rc, 0, self.mesh.last_stderr)
            hosts.append(rep["from"])
        self.assertEqual(len(set(hosts)), 3, hosts)

    def test_d_instances_spread_are_numbered_across_hosts(self):
        r = self.create_any({"name": "batch", "instances": 3})
        self.assertEqual(r["code"], 201, r)
        by_name = {c["name"]: c["host"] for c in self.containers()}
        self.assertEqual(sorted(by_name), ["batch-1", "batch-2", "batch-3"], by_name)
        self.assertEqual(len(set(by_name.values())), 3, by_name)

    # ------------------------------------------------------------------ names

    def test_e_taken_name_is_refused_with_its_host(self):
        h1, h2 = self.mesh.fqdn(1), self.mesh.fqdn(2)
        r = self.bus.request(h1, "create-container", {"image": IMAGE, "cmd": SLEEP,
                                                      "name": "uniq"})
        self.assertEqual(r["code"], 201, r)
        started = time.monotonic()
        r = self.bus.request(h2, "create-container", {"image": IMAGE, "cmd": SLEEP,
                                                      "name": "uniq"})
        self.assertEqual(r["code"], 409, r)
        self.assertIn(h1, r["error"]["message"])
        self.assertLess(time.monotonic() - started, 1.0)
        r = self.create_any({"name": "uniq"})  # the scheduler applies the same rule
        self.assertEqual(r["code"], 409, r)
        self.assertIn(h1, r["error"]["message"])
        self.assertEqual(len(self.mesh.container_ids(2)), 0)
        # Asked for, a per-host name is allowed; acting on it by name then lists both.
        r = self.bus.request(h2, "create-container", {"image": IMAGE, "cmd": SLEEP,
                                                      "name": "uniq", "per_host_names": True})
        self.assertEqual(r["code"], 201, r)
        rc, rep = self.mesh.send({"action": "stop-container", "id": "uniq"})
        self.assertNotEqual(rc, 0)
        for h in (h1, h2):
            self.assertIn(h, self.mesh.last_stderr)

    # ------------------------------------------------------------------ idempotency

    def test_f_repeated_idempotency_key_makes_one_container(self):
        msg = {"action": "create-container", "image": IMAGE, "cmd": SLEEP, "name": "idem"}
        first = self.admin.send(msg, headers={"Idempotency-Key": "order-42"})
        again = self.admin.send(msg, headers={"Idempotency-Key": "order-42"})
        self.assertEqual(first.status, 201, first)
        self.assertIn(again.status, (200, 201), again)
        self.assertEqual(first.json["body"]["id"], again.json["body"]["id"])
        self.assertEqual(len([c for c in self.containers() if c["name"] == "idem"]), 1)
        # The same key from another user is another request: it is not answered with the
        # admin's container (the name is then taken: 409).
        bob = self.admin.make_user("bob")
        other = bob.send(dict(msg), headers={"Idempotency-Key": "order-42"})
        self.assertEqual(other.status, 409, other)
        # dockmeshctl --request-id: the same key twice, one container.
        cli = {"action": "create-container", "image": IMAGE, "cmd": SLEEP, "name": "idem-cli"}
        for _ in range(2):
            rc, rep = self.mesh.send(cli, "--request-id", "batch-7")
            self.assertEqual(rc, 0, self.mesh.last_stderr)
        self.assertEqual(len([c for c in self.containers() if c["name"] == "idem-cli"]), 1)

    # ------------------------------------------------------------------ fail fast

    def test_g_unknown_host_is_404_at_once(self):
        started = time.monotonic()
        r = self.bus.request("nohost.mesh.test", "ping", timeout=5)
        self.assertEqual(r["code"], 404, r)
        self.assertIn("nohost.mesh.test", r["error"]["message"])
        self.assertLess(time.monotonic() - started, 0.5)

    def test_z_down_host_answers_503_at_once(self):
        h3 = self.mesh.fqdn(3)
        r = self.bus.request(h3, "create-container", {"image": IMAGE, "cmd": SLEEP,
                                                      "name": "on-h3"})
        self.assertEqual(r["code"], 201, r)
        pid = self.mesh.pid("agent-host3")
        os.kill(pid, signal.SIGSTOP)
        try:
            # In flight when the host goes silent: ended by the directory (~3 s), not by its
            # 30 s deadline.
            env = self.bus.envelope("ping", deadline_ms=int(time.time() * 1000) + 30000)
            sent = time.monotonic()
            self.bus.publish("req/host/%s/" % h3, env)
            r = self.bus.wait_reply(env["id"], timeout=30)
            self.assertEqual(r["code"], 503, r)
            self.assertIn(h3, r["error"]["message"])
            self.assertLess(time.monotonic() - sent, 8.0)
            # Now the directory knows: at once, on the bus and through the bridge.
            started = time.monotonic()
            r = self.bus.request(h3, "ping", timeout=5)
            bus_ms = (time.monotonic() - started) * 1000
            self.assertEqual(r["code"], 503, r)
            self.assertRegex(r["error"]["message"], "host %s is down since " % h3)
            started = time.monotonic()
            http = self.admin.send({"action": "ping", "host": h3})
            http_ms = (time.monotonic() - started) * 1000
            self.assertEqual(http.status, 503, http)
            self.assertIn(h3, http.text)
            self.assertLess(bus_ms, 100)
            self.assertLess(http_ms, 100)
            # Its containers are in no state anyone can vouch for.
            mine = [c for c in self.containers() if c["name"] == "on-h3"]
            self.assertEqual([(c["state"], c["host_status"]) for c in mine],
                             [("unknown", "down")])
        finally:
            os.kill(pid, signal.SIGCONT)
        wait_for(lambda: all(h["status"] == "up" for h in self.mesh.ctl("hosts")[1]["hosts"]),
                 timeout=15, message="host3 up again")


if __name__ == "__main__":
    unittest.main()
