#!/usr/bin/python3
"""bench_stats_history: what the bridge's stats history (docs/bridge.md, "Stats history") costs on
a real one-host mesh: N running containers, the bridge sampling every --interval seconds. Over
--seconds it reports the bridge's, the broker's and the agent's CPU seconds (from /proc), the
samples one container gained (so the effective period per container), and the bridge's RSS.
Reported, not judged: the bound is the design's (one container-stats at a time per host).

Prints `RESULT | name | value | baseline | ratio | target | info | note` lines for bench/run.sh.
Usage: bench_stats_history.py [--containers N] [--seconds S] [--interval S]
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from bridgelib import Bridge, create_message  # noqa: E402
from meshlib import Mesh, wait_for  # noqa: E402


def result(name, value, note):
    print("RESULT | %s | %s | - | - | - | info | %s" % (name, value, note), flush=True)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--containers", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--interval", type=int, default=10)
    ap.add_argument("--off", action="store_true", help="the baseline: --stats-history 0")
    a = ap.parse_args()
    args = ["--stats-history=0"] if a.off else ["--stats-interval=%d" % a.interval]
    with Mesh(hosts=1, bridge_args=args) as mesh:
        admin = Bridge.admin(mesh)
        ids = []
        for i in range(a.containers):
            r = admin.send(create_message(mesh.fqdn(1), "hist-%d" % i, ["sleep", "3600"]))
            assert r.status == 201, r
            ids.append(r.json["body"]["id"])
        path = "/api/v1/containers/%s/stats/history" % ids[-1]
        count = (lambda: 0) if a.off else (lambda: len(admin.get(path).json["samples"]))
        if not a.off:
            wait_for(count, timeout=a.interval + 3 * a.containers, interval=0.5,
                     message="a first sample")
        pids = {n: mesh.pid(n) for n in ("bridge", "broker", "agent-host1")}
        before = {n: cpu_seconds(p) for n, p in pids.items()}
        samples0 = count()
        started = time.monotonic()
        time.sleep(a.seconds)  # the measured run itself, not a wait for a state
        took = time.monotonic() - started
        gained = count() - samples0
        note = "%d containers, %s, %.0f s" % (
            a.containers, "history off" if a.off else "--stats-interval %d" % a.interval, took)
        for n, p in pids.items():
            result("stats_history_cpu_%s%s" % (n.replace("-host1", ""), "_off" if a.off else ""),
                   "%.3f s (%.2f%% of a core)" % (cpu_seconds(p) - before[n],
                                                  100 * (cpu_seconds(p) - before[n]) / took), note)
        result("stats_history_bridge_rss%s" % ("_off" if a.off else ""),
               "%d kB" % rss_kb(pids["bridge"]), note)
        if not a.off:
            times = [s["t"] for s in admin.get(path).json["samples"]]
            gaps = sorted((b - a_) / 1000 for a_, b in zip(times, times[1:]))
            median = gaps[len(gaps) // 2] if gaps else float("inf")
            result("stats_history_period_per_container",
                   "%.1f s median gap (%d samples in the run)" % (median, gained), note)


if __name__ == "__main__":
    main()
