#!/usr/bin/python3
"""curve_rtt_probe: the floor under the bus `ping` overhead (issue 17). A bus ping crosses four
CURVE hops over loopback (client -> broker -> agent, and back), each a hand-off between threads
of different processes; this measures one such round trip with nothing else in it: a REQ socket
in this process and a REP socket in a child process, over loopback TCP, with and without CURVE,
each with libzmq's I/O thread on both sides (Debian's python3-zmq on the system libzmq the
broker uses). The bus ping's overhead over a direct /_ping cannot be lower than about two of
these round trips.

    /usr/bin/python3 bench/curve_rtt_probe.py [--samples 5000] [--rounds 5]

Prints bench/run.sh RESULT lines (the mesh step runs it beside the ping figures).

Python adds a few microseconds per message on each side; the figures are an upper bound of
libzmq's own.
"""

import argparse
import multiprocessing
import socket
import statistics
import time

import zmq


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def echo(port, server_secret, ready):
    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    if server_secret:
        rep.curve_server = True
        rep.curve_secretkey = server_secret
    rep.bind("tcp://127.0.0.1:%d" % port)
    ready.set()
    while True:
        m = rep.recv()
        if m == b"$TERM":
            rep.send(b"")
            break
        rep.send(m)
    rep.close(0)
    ctx.term()


def measure(curve, samples):
    port = free_port()
    server_public, server_secret = zmq.curve_keypair() if curve else (None, None)
    ready = multiprocessing.Event()
    child = multiprocessing.Process(target=echo, args=(port, server_secret, ready), daemon=True)
    child.start()
    ready.wait(10)
    ctx = zmq.Context()
    req = ctx.socket(zmq.REQ)
    if curve:
        public, secret = zmq.curve_keypair()
        req.curve_serverkey = server_public
        req.curve_publickey = public
        req.curve_secretkey = secret
    req.connect("tcp://127.0.0.1:%d" % port)
    body = b"x" * 200  # about a ping envelope
    for _ in range(200):  # warm-up, and the handshake
        req.send(body)
        req.recv()
    times = []
    for _ in range(samples):
        t = time.perf_counter_ns()
        req.send(body)
        req.recv()
        times.append((time.perf_counter_ns() - t) / 1000.0)
    req.send(b"$TERM")
    req.recv()
    req.close(0)
    ctx.term()
    child.join(10)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    results = {"plain": [], "curve": []}
    for _ in range(args.rounds):  # interleaved, so the machine's load moves both alike
        for kind in ("plain", "curve"):
            results[kind].append(measure(kind == "curve", args.samples))
    for kind, runs in results.items():
        p50 = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        print("RESULT | floor: REQ/REP round trip over loopback, %s, p50 | %.1f us | - | - | - | "
              "info | p99 %.1f us; median of %d rounds of %d (bench/curve_rtt_probe.py); a bus "
              "ping is two such round trips plus the agent's hop to its worker: at least "
              "%.3f ms over a direct /_ping" % (kind, p50, p99, args.rounds, args.samples,
                                                2 * p50 / 1000))


if __name__ == "__main__":
    main()
