"""Fault: dockerd stops and starts again under a running agent.

Promised: while dockerd is away the agent stays on the bus and answers every request quickly
with 503 (not a timeout, not a crash), and its heartbeats say docker_up=false while the host
stays `up` (the agent is alive); once dockerd is back the agent recovers by itself: requests
succeed, existing containers are listed again, new ones can be created, and the directory's
inventory matches the daemon again.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (IMAGE, Bus, Mesh, Processes, directory_containers, hosts,  # noqa: E402
                      scaled, wait_for)

H1 = "host1.mesh.test"
# Exits at once on SIGTERM, so that dockerd's clean shutdown does not wait 15 s for it.
QUICK_STOP = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


def docker_up(mesh):
    h = (hosts(mesh) or {}).get(H1, {})
    return h.get("status"), h.get("docker_up")


def docker_answers(mesh):
    try:
        return mesh.docker(1, "GET", "/_ping", timeout=2)[0] == 200
    except OSError:
        return False


class DockerdRestartTest(unittest.TestCase):
    def test_dockerd_restart_under_agent(self):
        with Mesh(hosts=1, bridge=False) as mesh:
            procs = Processes(mesh)
            bus = Bus(mesh)
            r = bus.call(H1, "create-container", {"image": IMAGE, "cmd": QUICK_STOP, "name": "keep"},
                         user="alice", role="user")
            self.assertEqual(r and r["code"], 201, r)
            keep = r["body"]["id"]

            dockerd = procs.terminate("dockerd-host1", timeout=60)
            self.assertFalse(docker_answers(mesh))
            for action, body in (("ping", {}), ("list-containers", {}),
                                 ("create-container", {"image": IMAGE, "name": "during"})):
                t = time.monotonic()
                r = bus.call(H1, action, body, timeout=10, user="alice", role="user")
                took = time.monotonic() - t
                self.assertIsNotNone(r, "%s: no reply while dockerd is down" % action)
                self.assertEqual(r["code"], 503, "%s while dockerd is down: %r" % (action, r))
                self.assertTrue((r.get("error") or {}).get("message"), r)
                self.assertLess(took, scaled(5), "%s took %.1f s to fail" % (action, took))
            wait_for(lambda: docker_up(mesh) == ("up", False), scaled(10),
                     message="host up with docker_up=false")

            procs.start("dockerd-host1", dockerd)
            wait_for(lambda: docker_answers(mesh), scaled(60), message="dockerd back")
            wait_for(lambda: (bus.call(H1, "ping", {}, timeout=2) or {}).get("code") == 200,
                     scaled(20), message="ping through the mesh succeeds again")
            wait_for(lambda: docker_up(mesh) == ("up", True), scaled(10),
                     message="docker_up=true again")
            r = bus.call(H1, "list-containers", {"all": True}, user="alice", role="user")
            self.assertEqual(r and r["code"], 200, r)
            self.assertIn(keep, str(r["body"]), "the old container is not listed")
            r = bus.call(H1, "start-container", {"id": keep}, user="alice", role="user")
            self.assertIn(r and r["code"], (200, 204), r)
            r = bus.call(H1, "create-container", {"image": IMAGE, "cmd": QUICK_STOP, "name": "after"},
                         user="alice", role="user")
            self.assertEqual(r and r["code"], 201, r)
            new = r["body"]["id"]
            wait_for(lambda: {keep, new} <= set(directory_containers(mesh) or {}), scaled(10),
                     message="directory inventory has both containers")
            self.assertEqual(mesh.docker(1, "GET", "/containers/during/json")[0], 404,
                             "a container was created while dockerd was down")
            bus.close()
        procs.close()


if __name__ == "__main__":
    unittest.main()
