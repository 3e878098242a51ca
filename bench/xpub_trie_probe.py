#!/usr/bin/python3
"""xpub_trie_probe: what one subscriber's disconnect costs an XPUB socket of this machine's
libzmq, as a function of how many subscribers it has (issue 17: killing 100 of 5,000 agents made
the broker's hub thread mark live agents down; perf showed it inside libzmq freeing list nodes).

Each simulated agent is a SUB socket on inproc with the subscriptions a real agent holds:
req/all/ and req/host/<fqdn>/, and in the "3 topics" rows also its reply topic rep/<fqdn>/ (which
agents dropped once ready in session 24). The "as the broker" rows run the XPUB as the broker
does, in ZMQ_XPUB_MANUAL mode with every subscription applied by the application, so that libzmq
keeps two tries (the subscribers' requests and the applied ones) and walks both for each
disconnect. The probe closes KILL of them at once and measures the CPU this process spends until
the XPUB has handled the pipe terminations (libzmq handles them in the XPUB's own thread, inside
the getsockopt calls of the loop below; the loop with nothing to do is measured as "idle" and
taken off).

    /usr/bin/python3 bench/xpub_trie_probe.py [--agents 5000,10000] [--kill 100] [--results]

--results measures the "as the broker" case alone and prints it as a bench/run.sh RESULT line
as well (the other three cases take minutes at 10,000 subscribers). Needs Debian's
python3-zmq (it links the system libzmq the broker uses).
"""

import argparse
import time

import zmq


def close_cost(n, with_reply_topic, kill, manual=False):
    ctx = zmq.Context()
    ctx.set(zmq.MAX_SOCKETS, 2 * n + 16)
    xpub = ctx.socket(zmq.XPUB)
    if manual:
        xpub.setsockopt(zmq.XPUB_MANUAL, 1)
    xpub.bind("inproc://probe")
    subs = []
    for i in range(n):
        s = ctx.socket(zmq.SUB)
        s.connect("inproc://probe")
        fqdn = "sim-%05d.scale.mesh.test" % i
        s.setsockopt(zmq.SUBSCRIBE, b"req/all/")
        s.setsockopt(zmq.SUBSCRIBE, ("req/host/%s/" % fqdn).encode())
        if with_reply_topic:
            s.setsockopt(zmq.SUBSCRIBE, ("rep/%s/" % fqdn).encode())
        subs.append(s)
    while xpub.poll(100):
        m = xpub.recv()
        if manual and m[:1] == b"\x01":
            xpub.setsockopt(zmq.SUBSCRIBE, m[1:])  # as the broker does once its ACL allows

    def drive():
        for _ in range(300):
            xpub.getsockopt(zmq.EVENTS)
            time.sleep(0.002)
    c0 = time.process_time()
    for s in subs[:kill]:
        s.close(linger=0)
    drive()
    c1 = time.process_time()
    drive()
    c2 = time.process_time()
    for s in subs[kill:]:
        s.close(linger=0)
    xpub.close(linger=0)
    ctx.term()
    return c1 - c0, c2 - c1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", default="1000,5000,10000")
    ap.add_argument("--kill", type=int, default=100)
    ap.add_argument("--results", action="store_true")
    args = ap.parse_args()
    print("libzmq %s" % zmq.zmq_version())
    for n in (int(a) for a in args.agents.split(",")):
        kinds = ((True, False, "as the broker (manual, 2 topics)"),
                 (True, True, "manual, 3 topics (agents until fdd22f7)"),
                 (False, False, "plain XPUB, 2 topics each"),
                 (False, True, "plain XPUB, 3 topics each (with rep/)"))
        for manual, rep, what in kinds[:1] if args.results else kinds:
            busy, idle = close_cost(n, rep, args.kill, manual)
            each = (busy - idle) * 1000 / args.kill
            print("%6d subscribers, %-40s: %d disconnects cost %.3f s CPU (%.1f ms each; idle %.3f s)"
                  % (n, what, args.kill, busy - idle, each, idle), flush=True)
            if args.results:  # only the broker's case runs then
                print("RESULT | floor: XPUB, one subscriber's disconnect at %d subscribers | %.1f ms "
                      "| - | - | - | info | libzmq %s walks its whole subscription trie, twice in "
                      "ZMQ_XPUB_MANUAL mode (bench/xpub_trie_probe.py, CPU time): %d agents "
                      "killed at once cost the hub %.2f s of CPU before it reads on"
                      % (n, each, zmq.zmq_version(), args.kill, busy - idle), flush=True)


if __name__ == "__main__":
    main()
