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
new ones healthy). The steps are seen on dir/ as service-reconcile events.

The service is Alice's, made and changed through the bridge (docs/bridge.md "Jobs"): every PATCH
that bumps the generation answers the record plus a service-update job. The job is followed with
GET /api/v1/jobs/{id}: its progress is seen moving while the rollout runs, it ends done for the
good rollouts (a WebSocket job frame says so too) and failed with the rollback's error for the
two bad ones; a change sent during an update fails the first job ("superseded by generation
N") and its own job ends done; Bob gets a 404 for Alice's job; a PATCH that changes only a
policy makes no job."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
from faultlib import Mesh, wait_for  # noqa: E402
from bridgelib import Bridge  # noqa: E402

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

    def roll_out(self, mesh, sid, generation, floor=REPLICAS - BATCH, each=None):
        """Polls until the 3 running replicas are all of `generation` and nothing else is left;
        at every poll at least `floor` run (and `each()` is called). Returns (containers, fewest
        running seen)."""
        low = [REPLICAS]

        def check():
            if each:
                each()
            cs = self.containers(mesh, sid)
            running = [c for c in cs if c["state"] == "running"]
            low[0] = min(low[0], len(running))
            self.assertGreaterEqual(len(running), floor, cs)
            done = len(cs) == REPLICAS and all(
                c["generation"] == generation and c["state"] == "running" for c in cs)
            return cs if done else None
        return wait_for(check, 30, message="generation %d rolled out" % generation), low[0]

    def patch(self, user, sid, patch, generation=None):
        """PATCH through the bridge: the record, with a service-update job when the generation
        moved on (checked: `job_location` names the job)."""
        r = user.request("PATCH", "/api/v1/services/" + sid, patch)
        self.assertEqual(r.status, 200, r)
        out = r.json
        if generation is not None:
            self.assertEqual(out["generation"], generation, out)
        self.assertIn("job", out, out)
        self.assertEqual(out["job_location"], "/api/v1/jobs/" + out["job"], out)
        return out

    def job_state(self, user, job_id, seen):
        """The job now; a running job's progress is added to `seen` when it is new."""
        r = user.get("/api/v1/jobs/" + job_id)
        self.assertEqual(r.status, 200, r)
        if r.json["state"] == "running" and r.json["progress"] not in seen:
            seen.append(r.json["progress"])
        return r.json

    def follow_job(self, user, job_id, timeout=60, seen=None):
        """Polls the job until it ends: (final job, progress seen while it ran)."""
        seen = [] if seen is None else seen
        j = wait_for(lambda: (lambda j: None if j["state"] == "running" else j)(
            self.job_state(user, job_id, seen)), timeout, interval=0.2, message="job " + job_id)
        self.assertEqual(j["kind"], "service-update", j)
        return j, seen

    def fail_and_roll_back(self, mesh, user, sid, patch, kept, error_part):
        """Sends a failing update; polls until it is rolled back and only `kept` (container ids,
        running throughout) remain; the update's job ends failed with the error. Returns the
        service record."""
        out = self.patch(user, sid, patch)
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
        j, _ = self.follow_job(user, out["job"])
        self.assertEqual((j["state"], j["status"]), ("failed", 409), j)
        self.assertEqual(j["error"]["message"], "rolled back: " + update["error"], j)
        self.assertEqual(j["progress"]["state"], "rolled-back", j)
        self.assertEqual(j["progress"]["failed_generation"], failed_generation, j)
        self.assertEqual(j["progress"]["rollback_generation"], failed_generation + 1, j)
        return record

    def test_rolling_update_then_rollbacks(self):
        started = time.monotonic()
        with Mesh(hosts=3) as mesh:
            events = mesh.watch("dir/")
            admin = Bridge.admin(mesh)
            alice, bob = admin.make_user("alice"), admin.make_user("bob")
            r = alice.post("/api/v1/projects", {"name": "shop"})
            self.assertEqual(r.status, 201, r)
            spec = {"image": IMAGE, "replicas": REPLICAS, "cmd": ["sleep", "600"], "env": ["V=1"],
                    "update": {"batch_size": BATCH, "delay_s": 0, "health_gate": "running",
                               "running_s": 1, "rollback": True}}
            r = alice.post("/api/v1/services", {"project": "shop", "name": "web", "spec": spec})
            self.assertEqual(r.status, 201, r)
            sid = r.json["id"]
            first, _ = self.roll_out(mesh, sid, 1, floor=0)
            self.assertEqual(self.status(mesh, sid)["status"]["update"]["state"], "idle")

            # A new env: generation 2, batch by batch, followed by a job.
            ws = alice.websocket()
            t0 = time.monotonic()
            out = self.patch(alice, sid, {"env": ["V=2"]}, generation=2)
            self.assertEqual(out["spec"]["env"], ["V=2"], out)  # still the record, as before
            seen = []  # the job's progress, read at every poll of the rollout
            second, low = self.roll_out(mesh, sid, 2,
                                        each=lambda: self.job_state(alice, out["job"], seen))
            print("generation 2 rolled out in %.1f s; fewest running during it: %d"
                  % (time.monotonic() - t0, low))
            j, seen = self.follow_job(alice, out["job"], seen=seen)
            self.assertEqual((j["state"], j["status"]), ("done", 200), j)
            self.assertEqual((j["progress"]["generation"], j["progress"]["updated"],
                              j["progress"]["replicas"]), (2, REPLICAS, REPLICAS), j)
            self.assertGreaterEqual(j["progress"]["batches"], 1, j)
            self.assertNotIn("location", j)
            # Progress was seen while it ran: the job moved on before it ended.
            self.assertTrue(any(p["batches"] >= 1 for p in seen), seen)
            print("generation 2 job: %d distinct running snapshots, %d batches"
                  % (len(seen), j["progress"]["batches"]))
            frame = ws.next(lambda f: f.get("type") == "job" and f["job"]["id"] == out["job"]
                            and f["job"]["state"] != "running", timeout=10)
            self.assertEqual(frame["job"]["state"], "done", frame)
            ws.close()
            self.assertEqual(bob.get("/api/v1/jobs/" + out["job"]).status, 404)
            self.assertEqual(admin.get("/api/v1/jobs/" + out["job"]).status, 200)
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
            record = self.fail_and_roll_back(mesh, alice, sid, {"cmd": ["sh", "-c", "exit 3"]},
                                             kept, "exited")
            print("exit 3: rolled back in %.1f s: %s"
                  % (time.monotonic() - t0, record["status"]["update"]["error"]))
            self.assertEqual(record["spec"]["cmd"], ["sleep", "600"])
            self.assertEqual(record["spec"]["env"], ["V=2"])

            # An image no host has: the create fails, rolled back the same way.
            t0 = time.monotonic()
            record = self.fail_and_roll_back(mesh, alice, sid, {"image": "local/nonexistent:1"},
                                             kept, "nonexistent")
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

            # A change during an update supersedes it: the first job fails naming the newer
            # generation, whose own job ends done.
            t0 = time.monotonic()
            first_job = self.patch(alice, sid, {"env": ["V=3"]})
            newer = self.patch(alice, sid, {"env": ["V=4"]},
                               generation=first_job["generation"] + 1)
            j, _ = self.follow_job(alice, first_job["job"])
            self.assertEqual((j["state"], j["status"], j["progress"]["state"]),
                             ("failed", 409, "superseded"), j)
            self.assertEqual(j["error"]["message"],
                             "superseded by generation %d" % newer["generation"], j)
            self.roll_out(mesh, sid, newer["generation"])
            j, _ = self.follow_job(alice, newer["job"])
            self.assertEqual(j["state"], "done", j)
            steps = []  # drained up to its update-done, so that the next step reads its own

            def newer_done():
                steps.extend(self.steps(events, sid))
                return any(st["step"] == "update-done" and st["generation"] == newer["generation"]
                           for st in steps)
            wait_for(newer_done, 10, message="update-done of generation %d" % newer["generation"])
            print("superseded, then generation %d rolled out in %.1f s"
                  % (newer["generation"], time.monotonic() - t0))

            # A health check and the health gate, all three in one batch: the old replicas go
            # only once Docker calls the new ones healthy, so three run at every poll.
            patch = {"healthcheck": {"test": ["CMD-SHELL", "true"], "interval_s": 1},
                     "update": {"health_gate": "health", "batch_size": REPLICAS}}
            t0 = time.monotonic()
            out = self.patch(alice, sid, patch)
            healthy, low = self.roll_out(mesh, sid, out["generation"], floor=REPLICAS)
            j, _ = self.follow_job(alice, out["job"])
            self.assertEqual((j["state"], j["progress"]["generation"]),
                             ("done", out["generation"]), j)
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

            # A policy change keeps the generation: no rollout, no job.
            r = alice.request("PATCH", "/api/v1/services/" + sid,
                              {"reschedule": {"grace_s": 31}})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["generation"], out["generation"], r.json)
            self.assertNotIn("job", r.json)
        print("whole test %.1f s" % (time.monotonic() - started))


if __name__ == "__main__":
    unittest.main()
