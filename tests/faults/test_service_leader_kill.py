"""Fault: the scheduling leader is killed (SIGKILL) while it reconciles a service.

Promised (docs/services.md, "Exactly once"): three brokers on etcd, three hosts; a service of 8
replicas is created and the leader is killed as soon as the first replica exists on a dockerd,
with the others in flight. The new leader re-drives the same replicas under the same request ids
(placements committed in etcd, agents asked with attempt 1): the service ends with exactly 8
containers, all running, each replica index once: none lost, none doubled. Scaling it to 3
afterwards leaves exactly 3. The checker reads every dockerd directly, by the mesh.service label.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import IMAGE, Mesh, Processes, docker_containers, scaled, wait_for  # noqa: E402
from halib import BROKERS, HOSTS, leader_id, new_leader  # noqa: E402

REPLICAS = 8


def replicas(mesh, sid):
    """[(host, replica, state)] of the service's containers on every dockerd."""
    return [(i, int(c["Labels"]["mesh.replica"]), c["State"])
            for i in range(1, HOSTS + 1)
            for c in docker_containers(mesh, i, label="mesh.service=" + sid)]


class ServiceLeaderKill(unittest.TestCase):
    def exactly(self, mesh, sid, n):
        def check():
            found = replicas(mesh, sid)
            indices = [r for _, r, _ in found]
            self.assertEqual(len(indices), len(set(indices)), "a replica twice: %r" % found)
            ok = len(found) == n and all(s == "running" for _, _, s in found)
            return (found or ["none"]) if ok else None  # wait_for wants a truthy value
        return wait_for(check, scaled(60), message="exactly %d replicas of %s" % (n, sid))

    def test_leader_killed_mid_reconcile(self):
        with Mesh(hosts=HOSTS, brokers=BROKERS, bridge=False, timeout=120) as mesh:
            procs = Processes(mesh)
            leader = wait_for(lambda: leader_id(mesh), scaled(30), message="a leader")
            rc, out = mesh.ctl("projects", "create", "shop")
            self.assertEqual(rc, 0, out)
            spec = {"cmd": ["sleep", "600"], "reschedule": {"grace_s": 30, "backoff_s": 1}}
            rc, out = mesh.ctl("services", "create", "shop", "web", "--image", IMAGE,
                               "--replicas", str(REPLICAS), "--spec", json.dumps(spec))
            self.assertEqual(rc, 0, out)
            sid = out["id"]
            first = wait_for(lambda: replicas(mesh, sid), scaled(30), message="a first replica")
            procs.kill9(mesh.broker_name(leader))
            killed = time.monotonic()
            sys.stderr.write("leader broker%d killed with %d replica(s) made: %r\n"
                             % (leader, len(first), first))
            new = new_leader(mesh, {leader}, 60)
            found = self.exactly(mesh, sid, REPLICAS)
            sys.stderr.write("broker%d leads; %d replicas %.1f s after the kill: %r\n"
                             % (new, REPLICAS, time.monotonic() - killed, sorted(found)))
            self.assertEqual(sorted(r for _, r, _ in found), list(range(1, REPLICAS + 1)))
            self.assertEqual(mesh.ctl("services", "scale", sid, "3")[0], 0)
            self.exactly(mesh, sid, 3)
            self.assertEqual(mesh.ctl("services", "delete", sid)[0], 0)
            self.exactly(mesh, sid, 0)
            procs.close()


if __name__ == "__main__":
    unittest.main()
