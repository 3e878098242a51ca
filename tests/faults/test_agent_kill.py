"""Fault: `kill -9` of an agent, then a restart.

Promised (tests/RELIABILITY.md, bench/README.md): a host that misses 3 heartbeats is `down`, detected within
3.5 s and published on dir/; after the agent restarts the host is `up` again; its containers are
untouched (a dead agent is not a dead host) and still owned by the same users, both in Docker's
labels and in the directory, and the owner rules still hold for requests after the restart.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (IMAGE, Bus, Mesh, Processes, directory_containers,  # noqa: E402
                      docker_containers, host_status, scaled, wait_for)

H1, H2 = "host1.mesh.test", "host2.mesh.test"


def dir_event(bus, action, fqdn, timeout):
    """Waits for a dir/ event `action` about fqdn; returns the monotonic time it arrived."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = bus.receive(end - time.monotonic())
        if m and m[0] == "dir/" and m[1].get("action") == action and \
                (m[1].get("body") or {}).get("fqdn") == fqdn:
            return time.monotonic()
    return None


class AgentKillTest(unittest.TestCase):
    def test_kill9_agent(self):
        with Mesh(hosts=2, bridge=False) as mesh:
            procs = Processes(mesh)
            bus = Bus(mesh)
            owned = {}
            for user in ("alice", "bob"):
                r = bus.call(H1, "create-container", {"image": IMAGE, "cmd": ["sleep", "3600"],
                                                      "name": "own-" + user}, user=user, role="user")
                self.assertEqual(r and r["code"], 201, r)
                owned[r["body"]["id"]] = user
            wait_for(lambda: set(owned) <= set(directory_containers(mesh) or {}), scaled(15),
                     message="containers in the directory")
            before = {c["Id"]: c for c in docker_containers(mesh, 1)}

            bus.subscribe("dir/")
            agent = procs.kill9("agent-host1")
            killed = time.monotonic()
            seen = dir_event(bus, "host-down", H1, scaled(10))
            self.assertIsNotNone(seen, "no host-down on dir/ within 10 s")
            detect = seen - killed
            sys.stderr.write("host-down published %.2f s after kill -9\n" % detect)
            self.assertLessEqual(detect, scaled(3.5), "dead agent detected too late")
            self.assertEqual(host_status(mesh, H1), "down")
            self.assertEqual(host_status(mesh, H2), "up", "the other host must stay up")
            # A request to the dead host is answered at once by the broker: 503 naming the host
            # (fail fast), and nothing reaches the host.
            sent = time.monotonic()
            r = bus.call(H1, "ping", {}, timeout=2)
            self.assertIsNotNone(r, "no answer for a host the directory knows is down")
            self.assertEqual(r["code"], 503, r)
            self.assertIn(H1, r["error"]["message"])
            self.assertLess(time.monotonic() - sent, 1.0)

            # The host's containers are untouched while its agent is dead.
            self.assertEqual({c["Id"] for c in docker_containers(mesh, 1)}, set(before))

            procs.start("agent-host1", agent)
            restarted = time.monotonic()
            self.assertIsNotNone(dir_event(bus, "host-up", H1, scaled(10)), "no host-up after restart")
            sys.stderr.write("host-up published %.2f s after restart\n" % (time.monotonic() - restarted))
            self.assertEqual(host_status(mesh, H1), "up")

            after = {c["Id"]: c for c in docker_containers(mesh, 1)}
            self.assertEqual(set(after), set(before), "containers changed across the agent restart")
            for cid, user in owned.items():
                self.assertEqual(after[cid]["Labels"].get("dockmesh.owner"), user)
                self.assertEqual(after[cid]["State"], "running")
            wait_for(lambda: all((directory_containers(mesh) or {}).get(c, {}).get("owner") == u
                                 for c, u in owned.items()), scaled(10),
                     message="directory owners unchanged")
            # Ownership still enforced by the restarted agent.
            alice_c = next(c for c, u in owned.items() if u == "alice")
            r = bus.call(H1, "stop-container", {"id": alice_c, "timeout": 1}, user="bob", role="user")
            self.assertEqual(r and r["code"], 404, r)  # another user's container reads as missing
            r = bus.call(H1, "inspect-container", {"id": alice_c}, user="alice", role="user")
            self.assertEqual(r and r["code"], 200, r)
            bus.close()
        procs.close()


if __name__ == "__main__":
    unittest.main()
