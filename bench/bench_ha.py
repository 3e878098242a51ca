#!/usr/bin/python3
"""bench_ha: the HA figures (targets in docs/ha.md), on real processes (scripts/mesh.sh up
--brokers 3: three etcd members, three brokers, agents with private dockerds).

- failover: the scheduling leader is killed (SIGKILL) and a scheduled create is sent at once,
  retried every 250 ms with the same id (as requesters do); the figure is kill -> answer. The
  killed broker is started again before the next round.
- revocation: an admin key connected to every broker is revoked at one of them; the figure is
  revoke -> the last broker to stop forwarding it.
- scheduled create latency (create + start of one container through req/any/) with 3 brokers on
  etcd, against a single broker on RocksDB in a mesh of its own, in the same run.

Prints `RESULT | name | value | baseline | ratio | target | PASS/FAIL/info | note` lines for
bench/run.sh. Usage: bench_ha.py [--rounds N] [--creates N]
"""

import argparse
import os
import statistics
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "faults"))
from faultlib import IMAGE, Bus, Mesh, Processes, wait_for  # noqa: E402
from halib import MultiBus, ProbeLoop, leader_id  # noqa: E402


def result(name, value, baseline, ratio, target, verdict, note):
    print("RESULT | %s | %s | %s | %s | %s | %s | %s" % (name, value, baseline, ratio, target,
                                                      verdict, note), flush=True)


def create_once(bus, rid, try_timeout=0.25, total=20):
    env = bus.request("create-container", {"image": IMAGE, "cmd": ["sleep", "3600"]},
                      user="alice", role="user", rid=rid)
    end = time.monotonic() + total
    while time.monotonic() < end:
        reply = bus.send("req/any/", env, try_timeout)
        if reply is not None and reply.get("code") == 201:
            return reply
        env["attempt"] += 1
    return None


def create_latency(bus, count):
    times = []
    for _ in range(count):
        t = time.monotonic()
        if create_once(bus, uuid.uuid4().hex, try_timeout=5) is None:
            raise RuntimeError("a scheduled create was not answered")
        times.append(time.monotonic() - t)
    return statistics.median(times) * 1000


def failover_rounds(mesh, bus, rounds):
    procs = Processes(mesh)
    took = []
    for _ in range(rounds):
        first = wait_for(lambda: leader_id(mesh), 15, message="a leader")
        name = mesh.broker_name(first)
        t = time.monotonic()
        info = procs.kill9(name)
        if create_once(bus, uuid.uuid4().hex) is None:
            raise RuntimeError("no create answered after the leader died")
        took.append(time.monotonic() - t)
        procs.start(name, info)
        wait_for(lambda: all(b.get("reachable") for b in
                             (mesh.ctl("--timeout", 2000, "status")[1] or {}).get("brokers", [])),
                 30, message="the killed broker back")
        bus.wait_all(len(bus.ports), 30)
    return took


def revocation_rounds(mesh, ports, rounds):
    took = []
    for n in range(rounds):
        key_file = mesh.path("bench-%d.key" % n)
        rc, pub = mesh.ctl("keygen", "--out", key_file)
        pub = str(pub).strip()
        try:
            Bus(mesh, key_file=key_file, port=ports[0], ready_timeout=0.5)
        except AssertionError:
            pass
        wait_for(lambda: mesh.ctl("keys", "accept", pub, "--role", "admin", "--name",
                                  "bench-%d" % n)[0] == 0, 10, message="accept")
        loops = [ProbeLoop(mesh, p, key_file) for p in ports]
        for l in loops:
            l.start()
        t0 = time.monotonic()
        rc, _ = mesh.ctl("keys", "revoke", pub)
        wait_for(lambda: all(time.monotonic() - l.last_echo > 1.0 for l in loops), 10,
                 message="echoes stopped")
        took.append(max(l.last_echo for l in loops) - t0)
        for l in loops:
            l.close()
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--creates", type=int, default=10)
    args = ap.parse_args()
    with Mesh(hosts=1, brokers=1, bridge=False) as single:
        bus = Bus(single)
        single_ms = create_latency(bus, args.creates)
        bus.close()
    with Mesh(hosts=2, brokers=3, bridge=False, timeout=120) as mesh:
        ports = [mesh.broker_port(i) for i in (1, 2, 3)]
        wait_for(lambda: leader_id(mesh), 15, message="a leader")
        bus = MultiBus(mesh, ports)
        ha_ms = create_latency(bus, args.creates)
        revoked = revocation_rounds(mesh, ports, args.rounds)
        failover = failover_rounds(mesh, bus, args.rounds)
        bus.close()
    result("HA: leader killed -> next scheduled create answered (max of %d)" % len(failover),
           "%.2f s" % max(failover), "-", "-", "<= 2 s", "PASS" if max(failover) <= 2 else "FAIL",
           "each: %s s; lease TTL 1 s, retry every 250 ms" % ", ".join("%.2f" % f for f in failover))
    result("HA: key revocation effective on every broker (max of %d)" % len(revoked),
           "%.3f s" % max(revoked), "-", "-", "<= 1 s", "PASS" if max(revoked) <= 1 else "FAIL",
           "each: %s s (etcd watch)" % ", ".join("%.3f" % r for r in revoked))
    result("HA: scheduled create+start p50, 3 brokers on etcd vs 1 broker", "%.1f ms" % ha_ms,
           "%.1f ms" % single_ms, "%.2fx" % (ha_ms / single_ms), "-", "info",
           "%d creates each; the etcd placement transaction is on this path" % args.creates)


if __name__ == "__main__":
    main()
