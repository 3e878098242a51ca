#!/usr/bin/python3
"""bench_streams: stream figures through the bridge's WebSocket on a real one-host mesh
(scripts/mesh.sh up --hosts 1; docs/streams.md), as a browser sees them:

- first log byte of a follow: `follow` frame sent -> first `stream` frame received, for a
  container that has output already (tail 1); target <= 300 ms (issue 16).
- exec keystroke echo round trip: one character sent as `input` to a `sh` with a TTY -> the
  frame carrying its echo; target p50 <= 5 ms on loopback.
- 100 concurrent log follows of one printing container: the bridge's, broker's and agent's CPU
  seconds over the run (read from /proc), reported, not judged.

Prints `RESULT | name | value | baseline | ratio | target | PASS/FAIL/info | note` lines for
bench/run.sh. Usage: bench_streams.py [--rounds N] [--follows N]
"""

import argparse
import os
import select
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from agent_bus import restart_agent  # noqa: E402
from bridgelib import Bridge  # noqa: E402
from meshlib import Mesh, wait_for  # noqa: E402

IMAGE = "local/busybox:latest"


def result(name, value, target, verdict, note):
    print("RESULT | %s | %s | - | - | %s | %s | %s" % (name, value, target, verdict, note), flush=True)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def first_byte(user, rounds):
    times = []
    for i in range(rounds):
        ws = user.websocket()
        t0 = time.monotonic()
        ws.send({"type": "follow", "ref": i, "message": {"action": "follow-logs", "id": "ticker", "tail": 1}})
        ws.next(lambda f: f.get("type") == "stream", timeout=10)
        times.append((time.monotonic() - t0) * 1000)
        ws.close()
    return times


def echo_round_trips(user, rounds):
    ws = user.websocket()
    ws.send({"type": "follow", "ref": 1, "message": {"action": "exec-start", "id": "ticker", "cmd": ["sh"], "tty": True}})
    reply = ws.next(lambda f: f.get("type") == "reply")
    assert reply["status"] == 200, reply
    stream = reply["reply"]["body"]["stream"]
    ws.next(lambda f: f.get("stream") == stream and "#" in f.get("data", ""), timeout=10)  # prompt
    times = []
    for i in range(rounds):
        ch = "abcdefghij"[i % 10]
        t0 = time.monotonic()
        ws.send({"type": "input", "stream": stream, "data": ch})
        ws.next(lambda f: f.get("stream") == stream and ch in f.get("data", ""), timeout=10)
        times.append((time.monotonic() - t0) * 1000)
    ws.send({"type": "input", "stream": stream, "data": "\x15exit\n"})
    ws.close()
    return times


def concurrent_follows(mesh, user, n, seconds):
    procs = {name: mesh.pid(name) for name in ("bridge", "broker", "agent-host1")}
    sockets = []
    for i in range(n):
        ws = user.websocket()
        ws.send({"type": "follow", "ref": i, "message": {"action": "follow-logs", "id": "ticker", "tail": 0}})
        ws.next(lambda f: f.get("type") == "reply", timeout=30)
        sockets.append(ws)
    before = {k: cpu_seconds(v) for k, v in procs.items() if v}
    frames = 0
    end = time.monotonic() + seconds
    by_sock = {ws.sock: ws for ws in sockets}
    while time.monotonic() < end:
        ready, _, _ = select.select(list(by_sock), [], [], 0.2)
        for sock in ready:
            ws = by_sock[sock]
            sock.settimeout(1.0)
            f = ws.frame()
            frames += 1 if f and f.get("type") == "stream" else 0
            while f and len(ws.buf) >= 2 and len(ws.buf) >= 2 + (ws.buf[1] & 0x7F):
                f = ws.frame()  # whole frames already buffered
                frames += 1 if f and f.get("type") == "stream" else 0
    used = {k: cpu_seconds(v) - before[k] for k, v in procs.items() if v}
    for ws in sockets:
        ws.close()
    return used, frames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--follows", type=int, default=100)
    args = ap.parse_args()
    with Mesh(hosts=1) as mesh:
        restart_agent(mesh, 1, ["--allow-exec"])
        admin = Bridge.admin(mesh)
        script = "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.1; done"
        body = {"action": "create-container", "host": mesh.fqdn(1), "image": IMAGE, "name": "ticker",
                "cmd": ["sh", "-c", script], "network_mode": "none"}
        wait_for(lambda: admin.send(body).status == 201, timeout=30, interval=0.5, message="create")
        fb = first_byte(admin, args.rounds)
        result("stream first log byte p50 (ms)", "%.1f" % statistics.median(fb), "<= 300",
               "PASS" if p(fb, 0.99) <= 300 else "FAIL", "p99 %.1f ms, %d follows via WebSocket" % (p(fb, 0.99), len(fb)))
        rt = echo_round_trips(admin, args.rounds * 4)
        result("exec keystroke echo p50 (ms)", "%.2f" % statistics.median(rt), "<= 5",
               "PASS" if statistics.median(rt) <= 5 else "FAIL", "p99 %.2f ms, %d keys via WebSocket" % (p(rt, 0.99), len(rt)))
        used, frames = concurrent_follows(mesh, admin, args.follows, 10.0)
        note = ", ".join("%s %.2f s" % kv for kv in sorted(used.items()))
        result("%d concurrent follows, CPU over 10 s" % args.follows, "%.2f s" % sum(used.values()), "report", "info",
               note + "; %d frames read" % frames)


if __name__ == "__main__":
    main()
