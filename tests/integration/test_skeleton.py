"""The walking skeleton, end to end on a real two-host mesh: real dockerds, broker, agents and
dockmeshctl, checked against the Docker API of each dockerd.

Tests run in name order on one mesh; each leaves the mesh as the next expects it.
"""

import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meshlib import MESH_SH, Mesh, wait_for  # noqa: E402

H1 = "host1.mesh.test"
H2 = "host2.mesh.test"
IMAGE = "local/busybox:latest"


def created_id(reply):
    """The container id in a create-container reply body ({id} or {containers: [{id}]})."""
    body = reply.get("body") or {}
    if isinstance(body.get("id"), str):
        return body["id"]
    items = body.get("containers") or []
    if items and isinstance(items[0].get("id"), str):
        return items[0]["id"]
    raise AssertionError("no container id in create reply: %r" % reply)


class SkeletonTest(unittest.TestCase):
    mesh = None
    container = None  # id created on host1 by test_2

    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=2, labels={1: {"zone": "a"}, 2: {"zone": "b"}}).up()

    @classmethod
    def tearDownClass(cls):
        if cls.mesh:
            r = cls.mesh.down()  # after test_9 this is the second down: must be a no-op
            assert r.returncode == 0, r.stderr

    def tearDown(self):
        result = getattr(self._outcome, "result", None)
        if result and any(t is self for t, _ in result.failures + result.errors):
            self.mesh.dump_logs()

    def send(self, message, *args):
        rc, reply = self.mesh.send(message, *args)
        self.assertIsInstance(reply, dict, "not a JSON reply; stderr: " + self.mesh.last_stderr)
        return rc, reply

    def inspect_on(self, i, cid):
        return self.mesh.docker(i, "GET", "/containers/%s/json" % cid)

    def test_1_both_hosts_register(self):
        rc, out = self.mesh.ctl("hosts")
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        up = {h["fqdn"]: h for h in out["hosts"] if h.get("status") == "up"}
        self.assertEqual(set(up), {H1, H2})
        self.assertEqual(up[H1].get("labels", {}).get("zone"), "a")
        rc, out = self.mesh.ctl("hosts", "--label", "zone=b")
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        self.assertEqual([h["fqdn"] for h in out["hosts"]], [H2])

    def test_2_create_on_host1_lands_on_host1_only(self):
        rc, reply = self.send({"action": "create-container", "host": H1, "image": IMAGE,
                               "cmd": ["sleep", "300"], "name": "skeleton-one"})
        self.assertEqual(rc, 0, reply)
        self.assertIn(reply["code"], (200, 201))
        self.assertEqual(reply["from"], H1)
        cid = created_id(reply)
        status, info = self.inspect_on(1, cid)
        self.assertEqual(status, 200, info)
        self.assertTrue(info["State"]["Running"])
        self.assertEqual(info["Config"]["Labels"].get("dockmesh.owner"), "admin")
        status, _ = self.inspect_on(2, cid)
        self.assertEqual(status, 404)
        type(self).container = info["Id"]

    def test_3_inspect_through_the_mesh(self):
        cid = self.container
        rc, reply = self.send({"action": "inspect-container", "host": H1, "id": cid})
        self.assertEqual(rc, 0, reply)
        self.assertEqual(reply["code"], 200)
        self.assertIn(cid[:12], str(reply["body"]))
        # Without a host, dockmeshctl asks the directory where the container lives.
        wait_for(lambda: any(c["id"].startswith(cid[:12]) for c in
                             (self.mesh.ctl("containers", "--host", H1)[1] or {}).get("containers", [])),
                 timeout=10, message="the directory to list the new container")
        rc, reply = self.send({"action": "inspect-container", "id": "skeleton-one"})
        self.assertEqual(rc, 0, reply)
        self.assertEqual(reply["from"], H1)

    def test_4_stop_is_visible_in_docker(self):
        rc, reply = self.send({"action": "stop-container", "host": H1, "id": self.container,
                               "timeout": 1})
        self.assertEqual(rc, 0, reply)
        status, info = self.inspect_on(1, self.container)
        self.assertEqual(status, 200)
        self.assertFalse(info["State"]["Running"])

    def test_5_remove_is_visible_in_docker(self):
        rc, reply = self.send({"action": "remove-container", "host": H1, "id": self.container})
        self.assertEqual(rc, 0, reply)
        status, _ = self.inspect_on(1, self.container)
        self.assertEqual(status, 404)

    def test_6_unknown_action_gets_400_naming_it(self):
        rc, reply = self.send({"action": "format-the-disk", "host": H1})
        self.assertEqual(rc, 1)
        self.assertEqual(reply["code"], 400)
        self.assertIn("format-the-disk", reply["error"]["message"])

    def test_7_shared_topic_and_broadcast(self):
        before = {i: self.mesh.container_ids(i) for i in (1, 2)}
        rc, reply = self.send({"action": "create-container", "image": IMAGE,
                               "cmd": ["sleep", "300"]})
        self.assertEqual(rc, 0, reply)
        cid = created_id(reply)
        landed = [i for i in (1, 2) if any(x.startswith(cid) for x in
                                             self.mesh.container_ids(i) - before[i])]
        self.assertEqual(len(landed), 1, "the scheduled container must exist on exactly one host")
        self.assertEqual(reply["from"], self.mesh.fqdn(landed[0]))

        rc, replies = self.mesh.ctl("send", "--all", '{"action":"ping"}')
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        self.assertEqual(sorted(r["from"] for r in replies), [H1, H2])

    def test_8_stopping_an_agent_publishes_unregister(self):
        watch = self.mesh.watch("ann/")
        # A heartbeat proves the watch is subscribed before the agent goes away.
        watch.next(lambda m: m["envelope"].get("action") == "heartbeat", timeout=15)
        pid = self.mesh.pid("agent-host2")
        self.assertIsNotNone(pid)
        os.kill(pid, signal.SIGTERM)
        msg = watch.next(lambda m: m["envelope"].get("action") == "unregister", timeout=15)
        self.assertEqual(msg["topic"], "ann/")
        self.assertEqual(msg["envelope"]["from"], H2)
        self.assertEqual(watch.stop(), 0)
        wait_for(lambda: all(h.get("status") != "up" for h in
                             (self.mesh.ctl("hosts")[1] or {}).get("hosts", []) if h["fqdn"] == H2),
                 timeout=10, message="host2 to leave status up")

    def test_9_down_leaves_no_process_or_container(self):
        rc, reply = self.send({"action": "create-container", "host": H1, "image": IMAGE,
                               "cmd": ["sleep", "300"]})
        self.assertEqual(rc, 0, reply)
        self.assertTrue(self.mesh.processes())
        r = subprocess.run([MESH_SH, "down", "--dir", self.mesh.dir], capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.mesh.processes(), [])
        for i in (1, 2):
            containers = self.mesh.path("host%d" % i, "data", "containers")
            self.assertEqual(os.listdir(containers) if os.path.isdir(containers) else [], [],
                             "containers left in host%d's data root" % i)
        with open("/proc/self/mounts") as f:
            self.assertNotIn(self.mesh.dir + "/", f.read())


if __name__ == "__main__":
    unittest.main()
