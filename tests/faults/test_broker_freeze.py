"""Fault: the broker is frozen (SIGSTOP) for a few seconds, then continues (SIGCONT).

Promised: requesters time out cleanly -- the CLI exits non-zero within its --timeout with a
message saying so, our own client gets no reply -- and a request whose deadline passed while the
broker was frozen is not executed late (the agent answers 504 instead of acting on it); after
SIGCONT the mesh recovers by itself: hosts up, requests answered, and a retry of the timed-out
create (same id, next attempt) has exactly one effect.
"""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import IMAGE, Bus, Mesh, Processes, hosts, scaled, wait_for  # noqa: E402

H1 = "host1.mesh.test"


class BrokerFreezeTest(unittest.TestCase):
    def test_sigstop_sigcont_broker(self):
        with Mesh(hosts=1, bridge=False) as mesh:
            procs = Processes(mesh)
            bus = Bus(mesh)
            self.assertEqual((bus.call(H1, "ping", {}) or {}).get("code"), 200)

            procs.freeze("broker")
            try:
                # The CLI gives up within its timeout, says so, and exits non-zero.
                t = time.monotonic()
                r = subprocess.run(mesh.ctl_argv("--timeout", "2000", "send", "--host", H1,
                                                 json.dumps({"action": "ping"})),
                                   capture_output=True, text=True, timeout=60)
                took = time.monotonic() - t
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn("time", (r.stderr + r.stdout).lower(), r.stderr)
                self.assertLess(took, scaled(8), "CLI took %.1f s with --timeout 2000" % took)

                # Our client: a create with a 2 s deadline gets no answer while frozen.
                create = bus.request("create-container",
                                     {"image": IMAGE, "cmd": ["sleep", "3600"], "name": "late"},
                                     user="alice", role="user", deadline_s=2)
                self.assertIsNone(bus.send("req/host/%s/" % H1, create, 3))
                # Keep it frozen past the deadline and past 3 missed heartbeats.
                time.sleep(3)  # the fault itself (5 s frozen in all), not a settle wait
            finally:
                procs.thaw("broker")

            # The late request reaches the agent after its deadline: answered 504, not executed.
            stale = None
            end = time.monotonic() + scaled(15)
            while stale is None and time.monotonic() < end:
                m = bus.receive(end - time.monotonic())
                if m and m[1].get("re") == create["id"]:
                    stale = m[1]
            self.assertIsNotNone(stale, "no answer to the request that expired during the freeze")
            self.assertEqual(stale["code"], 504, stale)
            self.assertEqual(mesh.docker(1, "GET", "/containers/late/json")[0], 404,
                             "a request past its deadline was executed")

            wait_for(lambda: (hosts(mesh) or {}).get(H1, {}).get("status") == "up", scaled(10),
                     message="host up after SIGCONT")
            self.assertEqual((bus.call(H1, "ping", {}) or {}).get("code"), 200)
            # The requester's retry: same id, next attempt, fresh deadline: exactly one container.
            for attempt in (1, 2):
                create["attempt"] = attempt
                create["deadline"] = int((time.time() + 30) * 1000)
                r = bus.send("req/host/%s/" % H1, create, scaled(15))
                self.assertIn(r and r["code"], (200, 201), r)
            status, items = mesh.docker(1, "GET", "/containers/json?all=1")
            names = [c["Names"][0] for c in items]
            self.assertEqual(names.count("/late"), 1, names)
            bus.close()
        procs.close()


if __name__ == "__main__":
    unittest.main()
