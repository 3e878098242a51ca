"""Rolling update and rollback of a service on real dockerds (docs/services.md "Rolling update"):
three hosts (real dockerds, broker, agents, CURVE), a service of 3 replicas, batch size 1, a
running gate of 1 s. An update of env rolls generation 2 out batch by batch: every poll of the
three dockerds finds at least replicas - batch_size running containers, and at the end the three
running replicas are all of the new generation. Then an update to a command that exits at once
(`sh -c "exit 3"`) fails and is rolled back: the generation-2 containers keep running with the
same container ids at every poll, the failed replica is removed, and the status says rolled-back
with the error. Then an update to an image no host has (`local/nonexistent:1`): its create fails,
rolled back the same way. A checker over every dockerd asserts exactly 3 containers after them
and that no replica index runs twice. Last, an update that adds a health check with the health
gate and a batch of 3: three replicas run at every poll (the old ones go once Docker calls the
new ones healthy). The steps are seen on dir/ as service-reconcile events."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
from faultlib import Mesh, wait_for  # noqa: E402

IMAGE = "local/busybox:latest"
HOSTS = (1, 2, 3)
REPLICAS = 3
BATCH = 1


class ServiceUpdate(unittest.TestCase):
    def containers(self, mesh, sid):
        """Every container of the service on every dockerd, as dicts (id, replica, generation,
        state, host); fails when one replica index runs twice anywhere."""
        flt = json.dumps({"label": ["mesh.service=" + sid]}).replace(" ", "")
        out = []
        for i in HOSTS:
            status, items = mesh.docker(i, "GET", "/containers/json?all=1&filters=" + flt)
            self.assertEqual(status, 200, items)
            out += [{"id": c["Id"], "replica": int(c["Labels"]["mesh.replica"]),
                     "generation": int(c["Labels"]["mesh.generation"]), "state": c["State"],
                     "host": i} for c in items]
        running = [c["replica"] for c in out if c["state"] == "running"]
        self.assertEqual(len(running), len(set(running)), "a replica runs twice: %r" % out)
        return out

    def status(self, mesh, sid):
        rc, out = mesh.ctl("services", "get", sid)
        self.assertEqual(rc, 0, out)
        return out

    def steps(self, events, sid):
        return [m["envelope"]["body"] for m in events.drain()
                if m["envelope"].get("action") == "service-reconcile"
                and m["envelope"]["body"]["service"] == sid]

    def roll_out(self, mesh, sid, generation, floor=REPLICAS - BATCH):
        """Polls until the 3 running replicas are all of `generation` and nothing else is left;
        at every poll at least `floor` run. Returns (containers, fewest running seen)."""
        low = [REPLICAS]

        def check():
            cs = self.containers(mesh, sid)
            running = [c for c in cs if c["state"] == "running"]
            low[0] = min(low[0], len(running))
            self.assertGreaterEqual(len(running), floor, cs)
            done = len(cs) == REPLICAS and all(
                c["generation"] == generation and c["state"] == "running" for c in cs)
            return cs if done else None
        return wait_for(check, 30, message="generation %d rolled out" % generation), low[0]

    def fail_and_roll_back(self, mesh, sid, patch, kept, error_part):
        """Sends a failing update; polls until it is rolled back and only `kept` (container ids,
        running throughout) remain. Returns the service record."""
        rc, out = mesh.ctl("services", "update", sid, "--spec", json.dumps(patch))
        self.assertEqual(rc, 0, out)
        failed_generation = out["generation"]

        def check():
            cs = self.containers(mesh, sid)
            running = {c["id"] for c in cs if c["state"] == "running"}
            self.assertTrue(kept <= running, "an old replica stopped: %r" % cs)
            if {c["id"] for c in cs} != kept:
                return None
            record = self.status(mesh, sid)
            return record if record["status"]["update"]["state"] == "rolled-back" else None
        record = wait_for(check, 30, message="rolled back from %r" % patch)
        update = record["status"]["update"]
        self.assertEqual(update["failed_generation"], failed_generation, update)
        self.assertEqual(record["generation"], failed_generation + 1, record)
        self.assertIn(error_part, update["error"] or "", update)
        self.assertEqual(update["updated"], REPLICAS, update)
        return record

    def test_rolling_update_then_rollbacks(self):
        started = time.monotonic()
        with Mesh(hosts=3, bridge=False) as mesh:
            events = mesh.watch("dir/")
            rc, out = mesh.ctl("projects", "create", "shop")
            self.assertEqual(rc, 0, out)
            spec = {"cmd": ["sleep", "600"], "env": ["V=1"],
                    "update": {"batch_size": BATCH, "delay_s": 0, "health_gate": "running",
                               "running_s": 1, "rollback": True}}
            rc, out = mesh.ctl("services", "create", "shop", "web", "--image", IMAGE,
                               "--replicas", str(REPLICAS), "--spec", json.dumps(spec))
            self.assertEqual(rc, 0, out)
            sid = out["id"]
            first, _ = self.roll_out(mesh, sid, 1, floor=0)
            self.assertEqual(self.status(mesh, sid)["status"]["update"]["state"], "idle")

            # A new env: generation 2, batch by batch.
            t0 = time.monotonic()
            rc, out = mesh.ctl("services", "update", sid, "--spec", json.dumps({"env": ["V=2"]}))
            self.assertEqual((rc, out["generation"]), (0, 2), out)
            second, low = self.roll_out(mesh, sid, 2)
            print("generation 2 rolled out in %.1f s; fewest running during it: %d"
                  % (time.monotonic() - t0, low))
            self.assertFalse({c["id"] for c in first} & {c["id"] for c in second})
            record = wait_for(lambda: (lambda r: r if r["status"]["update"]["state"] == "done"
                                       else None)(self.status(mesh, sid)), 10, message="done")
            self.assertEqual(record["status"]["update"]["updated"], REPLICAS)
            steps = []
            wait_for(lambda: steps.extend(self.steps(events, sid)) or
                     "update-done" in [s["step"] for s in steps], 10, message="update-done")
            batches = [s for s in steps if s["step"] == "update-batch"]
            self.assertEqual([s["batch"] for s in batches], [BATCH] * REPLICAS, steps)
            self.assertEqual(sum(1 for s in steps if s.get("reason") == "updated"), REPLICAS)

            # A command that exits at once: rolled back, the generation-2 replicas untouched.
            kept = {c["id"] for c in second}
            t0 = time.monotonic()
            record = self.fail_and_roll_back(mesh, sid, {"cmd": ["sh", "-c", "exit 3"]}, kept,
                                             "exited")
            print("exit 3: rolled back in %.1f s: %s"
                  % (time.monotonic() - t0, record["status"]["update"]["error"]))
            self.assertEqual(record["spec"]["cmd"], ["sleep", "600"])
            self.assertEqual(record["spec"]["env"], ["V=2"])

            # An image no host has: the create fails, rolled back the same way.
            t0 = time.monotonic()
            record = self.fail_and_roll_back(mesh, sid, {"image": "local/nonexistent:1"}, kept,
                                             "nonexistent")
            print("missing image: rolled back in %.1f s: %s"
                  % (time.monotonic() - t0, record["status"]["update"]["error"]))
            self.assertEqual(record["spec"]["image"], IMAGE)
            steps = []
            wait_for(lambda: steps.extend(self.steps(events, sid)) or
                     sum(1 for s in steps if s["step"] == "rollback") == 2, 10,
                     message="two rollback events")

            final = self.containers(mesh, sid)
            self.assertEqual({c["id"] for c in final}, kept, final)
            self.assertEqual(sorted(c["state"] for c in final), ["running"] * REPLICAS)

            # A health check and the health gate, all three in one batch: the old replicas go
            # only once Docker calls the new ones healthy, so three run at every poll.
            patch = {"healthcheck": {"test": ["CMD-SHELL", "true"], "interval_s": 1},
                     "update": {"health_gate": "health", "batch_size": REPLICAS}}
            t0 = time.monotonic()
            rc, out = mesh.ctl("services", "update", sid, "--spec", json.dumps(patch))
            self.assertEqual(rc, 0, out)
            healthy, low = self.roll_out(mesh, sid, out["generation"], floor=REPLICAS)
            print("health gate: rolled out in %.1f s; fewest running during it: %d"
                  % (time.monotonic() - t0, low))
            for c in healthy:
                status, info = mesh.docker(c["host"], "GET", "/containers/%s/json" % c["id"])
                self.assertEqual(status, 200, info)
                self.assertEqual(info["State"]["Health"]["Status"], "healthy", info["State"])
            steps = []
            wait_for(lambda: steps.extend(self.steps(events, sid)) or
                     "update-done" in [s["step"] for s in steps], 10, message="update-done")
            self.assertEqual([s["batch"] for s in steps if s["step"] == "update-batch"],
                             [REPLICAS], steps)
        print("whole test %.1f s" % (time.monotonic() - started))


if __name__ == "__main__":
    unittest.main()
