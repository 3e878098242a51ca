"""Fault: the scheduling leader is killed (SIGKILL), then the next one paused (SIGSTOP), while
they reconcile a service.

Promised (docs/services.md, "Exactly once"): three brokers on etcd, three hosts; a service of 8
replicas is created and the leader is killed as soon as the first replica exists on a dockerd,
with the others in flight. The new leader re-drives the same replicas under the same request ids
(placements committed in etcd, agents asked with attempt 1): the service ends with exactly 8
containers, all running, each replica index once: none lost, none doubled. Scaling it to 3
afterwards leaves exactly 3. The killed broker is started again; the service is scaled back to 8
and the leader frozen as soon as the first new replica exists: another broker leads and finishes
the replicas, exactly 8 again. The frozen broker is then thawed with whatever it had in flight:
once every broker names the new leader, there are still exactly 8 (its late creates and removes
carry a spent epoch, which the agents refuse). The checker reads every dockerd directly, by the
mesh.service label; a replica index found twice at any poll fails the test.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import IMAGE, Mesh, Processes, docker_containers, scaled, wait_for  # noqa: E402
from halib import BROKERS, HOSTS, leader_id, new_leader, status  # noqa: E402

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

    def pause_leader_mid_scale(self, mesh, procs, sid):
        """Scales to REPLICAS, freezes the leader once a new replica exists, thaws it after
        another broker has finished; exactly REPLICAS throughout and after."""
        leader = wait_for(lambda: leader_id(mesh), scaled(30), message="a leader")
        before = len(replicas(mesh, sid))
        # A broker just started answers 503 until it has read the records from etcd: retried.
        wait_for(lambda: mesh.ctl("services", "scale", sid, str(REPLICAS))[0] == 0 or None,
                 scaled(10), message="the scale taken")
        wait_for(lambda: len(replicas(mesh, sid)) > before or None, scaled(30),
                 message="a first new replica")
        name = mesh.broker_name(leader)
        procs.freeze(name)
        frozen = time.monotonic()
        try:
            new = new_leader(mesh, {leader}, 60)
            found = self.exactly(mesh, sid, REPLICAS)
            sys.stderr.write("broker%d frozen mid-scale; broker%d leads; %d replicas %.1f s later\n"
                             % (leader, new, REPLICAS, time.monotonic() - frozen))
        finally:
            procs.thaw(name)

        def everyone_names_new():
            s = status(mesh)
            named = {b.get("ha", {}).get("leader_id") for b in s["brokers"]} if s else set()
            return s and all(b.get("reachable") for b in s["brokers"]) and \
                named == {"broker-%d" % new}
        wait_for(everyone_names_new, scaled(30), message="the thawed broker to name the leader")
        found = self.exactly(mesh, sid, REPLICAS)
        self.assertEqual(sorted(r for _, r, _ in found), list(range(1, REPLICAS + 1)))

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
            killed_info = procs.kill9(mesh.broker_name(leader))
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
            procs.start(mesh.broker_name(leader), killed_info)
            self.pause_leader_mid_scale(mesh, procs, sid)
            self.assertEqual(mesh.ctl("services", "delete", sid)[0], 0)
            self.exactly(mesh, sid, 0)
            procs.close()


if __name__ == "__main__":
    unittest.main()
