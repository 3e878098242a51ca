#!/usr/bin/python3
"""bench_reconcile: the reconciler's figures (docs/services.md) on real processes (scripts/mesh.sh
up: one broker, three agents with private dockerds).

- create: a service of 6 replicas is created; the figure is the create call's return -> all 6
  running (read from the dockerds by label).
- host death: each round kills (SIGKILL) the agent and the dockerd of one host holding replicas of
  a 3-replica service with reschedule.grace_s 0; the figure is kill -> 3 replicas running on the
  two other hosts. It includes the broker's down detection (3.2 s without heartbeats), so the
  reconciler's own part is the figure minus that. The host is started again (its original copy
  removed: exactly 3 again) before the next round.

Prints `RESULT | name | value | baseline | ratio | target | PASS/FAIL/info | note` lines for
bench/run.sh. Usage: bench_reconcile.py [--rounds N]
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "faults"))
from faultlib import (IMAGE, Mesh, Processes, containerd_of, docker_answers,  # noqa: E402
                      docker_containers, wait_for)

DOWN_AFTER_S = 3.2


def result(name, value, baseline, ratio, target, verdict, note):
    print("RESULT | %s | %s | %s | %s | %s | %s | %s" % (name, value, baseline, ratio, target,
                                                      verdict, note), flush=True)


def running(mesh, sid, hosts):
    """{host: [replica]} of the service's running containers; None if a replica runs twice."""
    out, seen = {}, []
    for i in hosts:
        try:
            items = docker_containers(mesh, i, label="mesh.service=" + sid)
        except OSError:
            return None
        out[i] = [int(c["Labels"]["mesh.replica"]) for c in items if c["State"] == "running"]
        seen += out[i]
    return None if len(seen) != len(set(seen)) else out


def count(mesh, sid, hosts):
    r = running(mesh, sid, hosts)
    return sum(len(v) for v in r.values()) if r else 0


def all_containers(mesh, sid, hosts):
    return sum(len(docker_containers(mesh, i, label="mesh.service=" + sid)) for i in hosts)


def service(mesh, name, replicas, grace_s):
    spec = {"cmd": ["sleep", "3600"], "reschedule": {"grace_s": grace_s, "backoff_s": 1}}
    rc, out = mesh.ctl("services", "create", "bench", name, "--image", IMAGE,
                       "--replicas", str(replicas), "--spec", json.dumps(spec))
    assert rc == 0, out
    return out["id"]


def host_up(mesh, i):
    rc, out = mesh.ctl("hosts")
    return rc == 0 and any(h["fqdn"] == mesh.fqdn(i) and h["status"] == "up"
                           for h in out.get("hosts", []))


def death_round(mesh, procs, sid, victim):
    others = [i for i in (1, 2, 3) if i != victim]
    agent = procs.kill9("agent-host%d" % victim)
    dockerd = procs.kill9("dockerd-host%d" % victim)
    t0 = time.monotonic()
    wait_for(lambda: count(mesh, sid, others) == 3, 60, message="3 replicas elsewhere")
    took = time.monotonic() - t0
    wait_for(lambda: not containerd_of(mesh, victim), 20, message="containerd gone")
    procs.start("dockerd-host%d" % victim, dockerd)
    wait_for(lambda: docker_answers(mesh, victim), 60, message="dockerd back")
    procs.start("agent-host%d" % victim, agent)
    wait_for(lambda: host_up(mesh, victim), 60, message="host up")
    wait_for(lambda: all_containers(mesh, sid, (1, 2, 3)) == 3 and count(mesh, sid, (1, 2, 3)) == 3,
             60, message="exactly 3 after the return")
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with Mesh(hosts=3, bridge=False, check_bus=False) as mesh:
        procs = Processes(mesh)
        rc, out = mesh.ctl("projects", "create", "bench")
        assert rc == 0, out
        t = time.monotonic()
        big = service(mesh, "big", 6, 30)
        wait_for(lambda: count(mesh, big, (1, 2, 3)) == 6, 60, message="6 replicas")
        made = time.monotonic() - t
        result("reconcile: service of 6 replicas, create -> all running", "%.2f s" % made,
               "-", "-", "-", "info", "3 hosts, one broker")
        assert mesh.ctl("services", "delete", big)[0] == 0
        sid = service(mesh, "web", 3, 0)
        wait_for(lambda: count(mesh, sid, (1, 2, 3)) == 3, 60, message="3 replicas")
        times = []
        for n in range(args.rounds):
            victim = next(i for i in (3, 2, 1) if (running(mesh, sid, (i,)) or {}).get(i))
            times.append(death_round(mesh, procs, sid, victim))
            print("round %d: host%d killed, 3 replicas elsewhere after %.2f s"
                  % (n + 1, victim, times[-1]), file=sys.stderr, flush=True)
        result("reconcile: host death -> 3 replicas running elsewhere (grace 0) p50",
               "%.2f s" % statistics.median(times), "-", "-", "-", "info",
               "%d rounds, max %.2f s; includes %.1f s down detection"
               % (len(times), max(times), DOWN_AFTER_S))
        procs.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
