"""Fault: `kill -9` of the broker under a steady request load, then a restart.

Promised (tests/RELIABILITY.md): the directory survives in RocksDB and is the same after the
restart; agents re-register; requesters retry on timeout with the same request id, and
create-container is idempotent by request id, so every request is answered (after retries) and
has exactly one effect: no duplicate containers, on any host, also for creates the broker
scheduled (req/any/) whose first attempt died with the broker.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (IMAGE, Bus, LoadThread, Mesh, Processes, directory_containers,  # noqa: E402
                      docker_containers, hosts, scaled, stable_container_view,
                      stable_host_view, wait_for)

H = ["host1.mesh.test", "host2.mesh.test"]


def creator(prefix):
    return lambda bus, n: create(bus, n, prefix)


def create(bus, n, prefix):
    """Request n of one load thread: a create-container, targeted at a host or scheduled,
    retried on timeout with the same id. Returns what happened."""
    host = None if n % 3 == 2 else H[n % 2]
    name = "%s-%03d" % (prefix, n)
    body = {"image": IMAGE, "cmd": ["sleep", "3600"], "name": name}
    t = time.monotonic()
    reply, attempts = bus.call_retrying(host, "create-container", body, try_timeout=2, total=90,
                                        user="alice", role="user")
    return {"n": n, "name": name, "host": host, "reply": reply, "attempts": attempts, "t": t}


class BrokerKillTest(unittest.TestCase):
    def test_kill9_broker_under_load(self):
        with Mesh(hosts=2, bridge=False) as mesh:
            procs = Processes(mesh)
            bus = Bus(mesh)
            # Something in the directory before the crash, to compare after it.
            for i, h in enumerate(H):
                r = bus.call(h, "create-container", {"image": IMAGE, "cmd": ["sleep", "3600"],
                                                     "name": "before-%d" % i}, user="bob", role="user")
                self.assertEqual(r and r["code"], 201, r)
            wait_for(lambda: len(directory_containers(mesh) or {}) == 2, scaled(15),
                     message="both containers in the directory")
            # Compare settled records: an agent whose first /info read took over 1.5 s registers
            # without its facts and fills them in with a later heartbeat.
            wait_for(lambda: all((hosts(mesh) or {}).get(h, {}).get("docker_version")
                                 for h in H), scaled(15), message="host facts announced")
            before_hosts = {f: stable_host_view(h) for f, h in hosts(mesh).items()}
            before_containers = {i: stable_container_view(c)
                                 for i, c in directory_containers(mesh).items()}

            # Three requesters, so that several requests are in flight when the broker dies.
            loads = [LoadThread(mesh, creator("ld%d" % k), limit=30, pause=0.02) for k in range(3)]
            for t in loads:
                t.start()
            done = lambda: sum(len(t.results) for t in loads)  # noqa: E731
            wait_for(lambda: done() >= 6, scaled(60), message="load running")
            killed_at = time.monotonic()
            broker = procs.kill9("broker")
            killed_after = done()
            # Leave it dead long enough that requests in flight time out and are retried.
            time.sleep(3)  # the fault itself: the broker is down for 3 s, not a settle wait
            procs.start("broker", broker)
            wait_for(lambda: done() >= killed_after + 12, scaled(120),
                     message="load making progress after the restart")
            for t in loads:
                t.stop()
                self.assertEqual(t.errors, [])
            results = [r for t in loads for r in t.results]

            # Every request answered, with a success, after retries where needed.
            unanswered = [r for r in results if r["reply"] is None]
            self.assertEqual(unanswered, [], "requests never answered")
            failed = [r for r in results if r["reply"]["code"] not in (200, 201)]
            self.assertEqual(failed, [], "requests answered with an error")
            retried = [r for r in results if r["attempts"] > 1]
            sys.stderr.write("load: %d requests, %d retried across the broker crash\n"
                             % (len(results), len(retried)))

            # Exactly one container per request, across both hosts.
            where = {}
            for i, h in enumerate(H, start=1):
                for c in docker_containers(mesh, i):
                    where.setdefault(c["Names"][0].lstrip("/"), []).append((h, c["Id"][:12]))
            dup = [(r["name"], where.get(r["name"]), "attempts=%d" % r["attempts"],
                    "scheduled" if r["host"] is None else "targeted",
                    "before kill" if r["t"] < killed_at else "after kill")
                   for r in results if len(where.get(r["name"], [])) != 1]
            self.assertEqual(dup, [], "requests without exactly one container")

            # Agents re-registered: both hosts up, and the directory converges to what the
            # dockerds hold (every container, on the right host, owned by the right user).
            wait_for(lambda: all((hosts(mesh) or {}).get(h, {}).get("status") == "up" for h in H),
                     scaled(15), message="both hosts up again")
            truth = {}
            for i, h in enumerate(H, start=1):
                for c in docker_containers(mesh, i):
                    truth[c["Id"]] = (h, c["Labels"].get("dockmesh.owner"))

            def converged():
                d = directory_containers(mesh) or {}
                return {k: (v["host"], v["owner"]) for k, v in d.items()} == truth
            wait_for(converged, scaled(20), message="directory equal to the dockerds' containers")

            # The directory of before the crash is still there, unchanged.
            after_hosts = {f: stable_host_view(h) for f, h in hosts(mesh).items()}
            self.assertEqual(after_hosts, before_hosts)
            after = directory_containers(mesh)
            for cid, view in before_containers.items():
                self.assertEqual(stable_container_view(after[cid]), view)
            bus.close()
        procs.close()


if __name__ == "__main__":
    unittest.main()
