"""Load: bounded HTTP load on the bridge's read endpoints (Debian's wrk: 10 s, 2 threads, 20
connections) and a bounded flood of bus requests (well-formed pings, pipelined, plus malformed
frames), on a real 2-host mesh.

Promised: no errors (every HTTP answer 2xx, no socket errors; every ping answered 200 when at
most 200 are outstanding; a burst of 3000 at once is answered too, each 200 or 503 "busy", none
lost; malformed frames dropped without harm), every daemon still alive, and the resident memory of every daemon
after the load within RSS_GROWTH_MB of what it was before (sanitized builds get ASan's
allocator quarantine on top, so the bound is larger there; see tests/RELIABILITY.md).
Figures are printed for tests/RELIABILITY.md.
"""

import os
import random
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from faultlib import SLOW, Bus, Mesh, alive, rss_kb, scaled, wait_for  # noqa: E402
from bridgelib import Bridge  # noqa: E402

WRK_SECONDS = int(os.environ.get("DM_LOAD_SECONDS", "10"))
FLOOD = int(os.environ.get("DM_LOAD_FLOOD", "5000"))
BURST = 3000


def asan_quarantine_mb():
    """ASan's quarantine of freed memory, from ASAN_OPTIONS (scripts/sanitize.sh sets 64 MB)."""
    m = re.search(r"(?:^|:)quarantine_size_mb=(\d+)", os.environ.get("ASAN_OPTIONS", ""))
    return int(m.group(1)) if m else 256


# Growth allowed per daemon. Plain builds: allocator caches and RocksDB memtables. Sanitized
# builds: ASan keeps freed memory in its quarantine before reuse, and its allocator keeps
# per-size-class caches and shadow memory: the quarantine plus 96 MB on top of the 16.
RSS_GROWTH_MB = 16 if SLOW <= 1 else 16 + asan_quarantine_mb() + 96
DAEMONS = ["broker", "agent-host1", "agent-host2", "bridge"]

LUA = """
-- rotate over the bridge's read endpoints, with the session token
local paths = {"/api/v1/hosts", "/api/v1/containers", "/api/v1/whoami", "/api/v1/hosts/host1.mesh.test"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Authorization"] = "Bearer %s"})
end
"""


def pipelined_pings(bus, count, window):
    """count pings with at most `window` unanswered at a time; {reply code (None = never
    answered within the deadline): how many}."""
    codes, outstanding, n = {}, {}, 0
    end = time.monotonic() + scaled(120)
    while (n < count or outstanding) and time.monotonic() < end:
        while n < count and len(outstanding) < window:
            env = bus.request("ping", {}, deadline_s=120)
            bus.publish("req/host/host%d.mesh.test/" % (1 + n % 2), env)
            outstanding[env["id"]] = True
            n += 1
        m = bus.receive(1.0)
        if m and outstanding.pop(m[1].get("re"), None):
            c = m[1].get("code")
            codes[c] = codes.get(c, 0) + 1
    if outstanding or n < count:
        codes[None] = len(outstanding) + (count - n)
    return codes


def rss_mb(mesh):
    return {d: rss_kb(mesh.pid(d)) / 1024.0 for d in DAEMONS}


def parse_wrk(out):
    """requests, requests/s, non-2xx count, socket error count, p99 latency text."""
    total = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    sock_errors = sum(int(x) for x in sock.groups()) if sock else 0
    p99 = (re.search(r"\s99%\s+(\S+)", out) or [None, "?"])[1]
    return total, rps, non2xx, sock_errors, p99


class LoadTest(unittest.TestCase):
    def test_bridge_and_bus_under_load(self):
        with Mesh(hosts=2, bridge=True) as mesh:
            admin = Bridge.admin(mesh)
            self.assertEqual(admin.get("/api/v1/hosts").status, 200)
            bus = Bus(mesh)
            # Warm up every code path once so that "before" is not an idle process.
            for h in ("host1.mesh.test", "host2.mesh.test"):
                self.assertEqual((bus.call(h, "ping", {}) or {}).get("code"), 200)
            before = rss_mb(mesh)

            # 1. HTTP: wrk against the read endpoints.
            script = mesh.path("wrk.lua")
            with open(script, "w") as f:
                f.write(LUA % admin.token)
            url = "http://%s:%d" % (admin.host, admin.port)
            r = subprocess.run(["wrk", "-t2", "-c20", "-d%ds" % WRK_SECONDS, "--latency",
                                "-s", script, url], capture_output=True, text=True,
                               timeout=WRK_SECONDS + 60)
            self.assertEqual(r.returncode, 0, r.stderr)
            total, rps, non2xx, sock_errors, p99 = parse_wrk(r.stdout)
            sys.stderr.write("wrk: %d requests in %d s, %.0f req/s, p99 %s, non-2xx %d, "
                             "socket errors %d\n" % (total, WRK_SECONDS, rps, p99, non2xx, sock_errors))
            self.assertGreater(total, 0)
            self.assertEqual(non2xx, 0, r.stdout)
            self.assertEqual(sock_errors, 0, r.stdout)

            # 2. Bus: FLOOD pings, at most WINDOW outstanding, alternating hosts: all 200.
            flood = Bus(mesh, hwm=0)
            t = time.monotonic()
            codes = pipelined_pings(flood, FLOOD, window=200)
            took = time.monotonic() - t
            sys.stderr.write("bus flood: %d pings (window 200) in %.1f s (%.0f/s), codes %r\n"
                             % (FLOOD, took, FLOOD / took, codes))
            self.assertEqual(codes, {200: FLOOD})
            # A burst far over what an agent queues: every request still answered, either 200
            # or 503 "busy" -- overload is said, never a silent loss.
            codes = pipelined_pings(flood, BURST, window=BURST)
            sys.stderr.write("bus burst: %d pings at once, codes %r\n" % (BURST, codes))
            self.assertNotIn(None, codes, "requests lost in the burst")
            self.assertEqual(set(codes) - {200, 503}, set())
            flood.close()

            # 3. Malformed frames on every request topic: dropped, nothing dies.
            rnd = random.Random(7)
            for n in range(1000):
                topic = rnd.choice(["req/host/host1.mesh.test/", "req/any/", "ann/", "rep/x/"])
                junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
                bus.pub.send_multipart([topic.encode(), junk])
            for h in ("host1.mesh.test", "host2.mesh.test"):
                self.assertEqual((bus.call(h, "ping", {}) or {}).get("code"), 200,
                                 "%s does not answer after the junk flood" % h)
            self.assertEqual(admin.get("/api/v1/hosts").status, 200)

            for d in DAEMONS:
                self.assertTrue(alive(mesh.pid(d)), "%s died under load" % d)
            after = rss_mb(mesh)
            report = ", ".join("%s %.1f -> %.1f MB" % (d, before[d], after[d]) for d in DAEMONS)
            sys.stderr.write("RSS: %s (bound +%d MB)\n" % (report, RSS_GROWTH_MB))
            for d in DAEMONS:
                self.assertLessEqual(after[d] - before[d], RSS_GROWTH_MB,
                                     "%s grew from %.1f to %.1f MB" % (d, before[d], after[d]))
            bus.close()


if __name__ == "__main__":
    unittest.main()
