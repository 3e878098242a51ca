"""The reconciler keeps a service at its replica count on real dockerds (docs/services.md):
three hosts (real dockerds, broker, agents, CURVE), a service of 3 replicas with a 3 s grace.
It spreads over the three hosts; scaled to 5 then to 2, exactly that many containers exist; at 3
again, host3's agent and dockerd are killed with SIGKILL and the service is back to 3 running
replicas on hosts 1 and 2 within grace + 10 s of the kill; when host3 returns (its dockerd and
agent started again) the service has exactly 3 containers again; deleting it removes them all.
A checker reads every live dockerd directly (Docker's API over its unix socket, by the
reconciler's mesh.service label) and asserts the count, and that no replica index runs twice;
each step of the reconciler is seen on dir/ as a service-reconcile event."""

import json
import os
import sys
import time
import unittest

from dmtest.process import stop_child

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
from faultlib import (Mesh, Processes, containerd_of, docker_answers,  # noqa: E402
                      wait_for)

IMAGE = "local/busybox:latest"
GRACE_S = 3
HOSTS = (1, 2, 3)


class ServiceReconcile(unittest.TestCase):
    def replicas(self, mesh, sid, hosts):
        """{host index: [(replica, state, name)]} of the service's containers on each live dockerd;
        fails when one replica index runs twice anywhere."""
        found = {}
        flt = json.dumps({"label": ["mesh.service=" + sid]}).replace(" ", "")
        for i in hosts:
            status, items = mesh.docker(i, "GET", "/containers/json?all=1&filters=" + flt)
            self.assertEqual(status, 200, items)
            found[i] = [(int(c["Labels"]["mesh.replica"]), c["State"], c["Names"][0].lstrip("/"))
                        for c in items]
        running = [r for cs in found.values() for r, state, _ in cs if state == "running"]
        self.assertEqual(len(running), len(set(running)), "a replica runs twice: %r" % found)
        return found

    def wait_count(self, mesh, sid, n, hosts=HOSTS, timeout=20, running_only=False):
        """Waits until exactly n of the service's containers exist on `hosts` (all running)."""
        def check():
            found = self.replicas(mesh, sid, hosts)
            all_ = [c for cs in found.values() for c in cs]
            ok = len(all_) == n and all(s == "running" for _, s, _ in all_)
            if running_only:
                ok = sum(1 for _, s, _ in all_ if s == "running") == n
            return found if ok else None
        return wait_for(check, timeout, message="%d replicas of %s" % (n, sid))

    def status(self, mesh, sid):
        rc, out = mesh.ctl("services", "get", sid)
        self.assertEqual(rc, 0, out)
        return out["status"]

    def setUp(self):
        self.procs = None

    def tearDown(self):
        for p in self.procs.children if self.procs else []:
            stop_child(p, 30)  # mesh.sh down stopped them already: this reaps them

    def test_replicas_follow_scale_host_death_and_return(self):
        started = time.monotonic()
        with Mesh(hosts=3, bridge=False) as mesh:
            events = mesh.watch("dir/")
            rc, out = mesh.ctl("projects", "create", "shop")
            self.assertEqual(rc, 0, out)
            pid = out["id"]
            spec = {"cmd": ["sleep", "600"],
                    "reschedule": {"grace_s": GRACE_S, "backoff_s": 1, "on_return": "remove-returned"}}
            rc, out = mesh.ctl("services", "create", "shop", "web", "--image", IMAGE,
                               "--replicas", "3", "--spec", json.dumps(spec))
            self.assertEqual(rc, 0, out)
            sid = out["id"]

            found = self.wait_count(mesh, sid, 3)
            self.assertEqual({i: len(cs) for i, cs in found.items()}, {1: 1, 2: 1, 3: 1}, found)
            names = sorted(n for cs in found.values() for _, _, n in cs)
            self.assertEqual(names, ["shop-web-%d-%s" % (r, pid[-4:]) for r in (1, 2, 3)])
            st = wait_for(lambda: (lambda s: s if s["running"] == 3 else None)(self.status(mesh, sid)),
                          10, message="status running 3")
            self.assertEqual(st["desired"], 3)
            self.assertEqual(sorted(r["replica"] for r in st["replicas"]), [1, 2, 3])

            self.assertEqual(mesh.ctl("services", "scale", sid, "5")[0], 0)
            found = self.wait_count(mesh, sid, 5)
            self.assertTrue(all(1 <= len(cs) <= 2 for cs in found.values()), found)
            self.assertEqual(mesh.ctl("services", "scale", sid, "2")[0], 0)
            self.wait_count(mesh, sid, 2)
            self.assertEqual(mesh.ctl("services", "scale", sid, "3")[0], 0)
            found = self.wait_count(mesh, sid, 3)
            self.assertEqual(sorted(len(cs) for cs in found.values()), [1, 1, 1], found)

            # Host 3 dies: its agent and its dockerd, both SIGKILL.
            self.procs = Processes(mesh)
            agent = self.procs.kill9("agent-host3")
            dockerd = self.procs.kill9("dockerd-host3")
            killed = time.monotonic()
            self.wait_count(mesh, sid, 3, hosts=(1, 2), timeout=GRACE_S + 10)
            took = time.monotonic() - killed
            print("3 replicas on hosts 1 and 2 %.2f s after the kill (grace %d s)" % (took, GRACE_S))
            self.assertLess(took, GRACE_S + 10)
            steps = [m["envelope"]["body"] for m in events.drain()
                     if m["envelope"].get("action") == "service-reconcile"]
            print("reconcile steps seen on dir/: %r" % [(b["step"], b["replica"], b["host"]) for b in steps])
            self.assertIn(("replace", sid), [(b["step"], b["service"]) for b in steps])

            # Host 3 returns: its original copy goes (remove-returned), three stay.
            wait_for(lambda: not containerd_of(mesh, 3), 20, message="host3's containerd to exit")
            self.procs.start("dockerd-host3", dockerd)
            wait_for(lambda: docker_answers(mesh, 3), 60, message="dockerd-host3")
            self.procs.start("agent-host3", agent)
            wait_for(lambda: any(h["fqdn"] == mesh.fqdn(3) and h["status"] == "up"
                                 for h in (mesh.ctl("hosts")[1] or {}).get("hosts", [])),
                     20, message="host3 up")
            found = self.wait_count(mesh, sid, 3, timeout=20)
            self.assertEqual(found[3], [], found)
            st = wait_for(lambda: (lambda s: s if s["running"] == 3 else None)(self.status(mesh, sid)),
                          10, message="status running 3 after the return")
            self.assertEqual(len(st["replicas"]), 3, st)

            self.assertEqual(mesh.ctl("services", "delete", sid)[0], 0)
            self.wait_count(mesh, sid, 0)
        print("whole test %.1f s" % (time.monotonic() - started))


if __name__ == "__main__":
    unittest.main()
