"""Fault soak: three brokers that agree through etcd (scripts/mesh.sh up --brokers 3: three etcd
members, three brokers, three agents with private dockerds, every client connected to all), with
every fault of issue 12 that runs here. Run many times by scripts/ha_soak.sh; the short version
in CTest is tests/integration/test_ha_faults.py (revocation, kill -9 and SIGSTOP of the leader).

One workload of scheduled creates (single and `instances: 3`, spread; each retried with the same
id until answered and once more after) runs through, in order:
0. a partition of the leader: broker 3 runs in a network namespace of its own (mesh.sh
   --broker-netns 3), is made leader (the others frozen until it leads), then cut off from etcd,
   the agents and every client for 5 s (the veth pair's root end down) and joined again;
1. `kill -9` of the scheduling leader;
2. SIGSTOP of the next leader for 5 s (the third takes over; the resumed one does nothing);
3. `kill -9` of an etcd member, restarted later (calls and the watch fail over);
4. etcd unreachable from every broker (all members frozen): a scheduled create is answered 503
   naming etcd within 5 s, not left unanswered, both at once (by the leader, whose lease still
   runs) and 1.5 s later (by the brokers themselves, "cannot reach etcd"); then etcd resumes;
5. a full restart: every etcd member, broker and agent killed (-9) and started again.
After each fault a create sent after it must be answered. Then the checker reads every dockerd:
each acknowledged create has exactly its containers (by the dockmesh.request label), none twice;
the key revoked at the start is still revoked on every broker (no acknowledged key change lost);
an agent refuses (409) a request whose scheduler epoch is older than the highest it has seen.

The full restart starts broker 3 again in its namespace (faultlib.Processes sees where it ran).
"""

import os
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import IMAGE, Mesh, Processes, scaled, wait_for  # noqa: E402
from halib import (BROKERS, HOSTS, MultiBus, Workload, check_dockerds, check_fencing,  # noqa: E402
                   check_revocation, force_leader, leader_id, new_leader, partition_leader)

ETCD = ["etcd1", "etcd2", "etcd3"]


class HaSoak(unittest.TestCase):
    def test_every_fault(self):
        with Mesh(hosts=HOSTS, brokers=BROKERS, bridge=False, timeout=120,
                  broker_netns=BROKERS) as mesh:
            self.mesh, self.procs = mesh, Processes(mesh)
            self.ports = [mesh.broker_port(i) for i in range(1, BROKERS + 1)]
            wait_for(lambda: leader_id(mesh), scaled(15), message="an elected leader")
            revoked = check_revocation(self, mesh, self.ports)
            force_leader(mesh, self.procs, BROKERS)
            bus = MultiBus(mesh, self.ports)
            self.work = Workload(bus, limit=200)
            self.work.start()
            partition_leader(self, mesh, self.work)
            self.kill_and_freeze_leaders()
            self.kill_an_etcd_member()
            self.etcd_unreachable()
            self.full_restart()
            self.work.stop_flag.set()
            self.work.join(scaled(120))
            self.assertFalse(self.work.is_alive(), "workload did not finish")
            self.assertEqual(self.work.failed, [], "creates that were never acknowledged with 201")
            check_dockerds(self, mesh, self.work.acked)
            self.check_still_revoked(revoked)
            check_fencing(self, bus)
            bus.close()

    def answered_after(self, what, t0, timeout=30):
        took = self.work.wait_ack_after(t0, timeout) - t0
        print("%s: a create sent after it answered after %.2f s" % (what, took))

    def kill_and_freeze_leaders(self):
        self.work.wait_acks(2, 60)
        first = leader_id(self.mesh)
        self.assertIsNotNone(first)
        t0 = time.monotonic()
        self.procs.kill9(self.mesh.broker_name(first))
        self.answered_after("leader broker-%d killed" % first, t0)
        second = new_leader(self.mesh, {first}, 10)
        name = self.mesh.broker_name(second)
        self.procs.freeze(name)
        t0 = time.monotonic()
        try:
            self.answered_after("leader broker-%d frozen" % second, t0)
        finally:
            time.sleep(max(0.0, 5.0 - (time.monotonic() - t0)))  # 5 s at least
            self.procs.thaw(name)
        self.third = new_leader(self.mesh, {first, second}, 10)
        self.dead_broker = first

    def kill_an_etcd_member(self):
        info = self.procs.kill9("etcd2")
        t0 = time.monotonic()
        self.answered_after("etcd member etcd2 killed", t0)
        self.procs.start("etcd2", info)
        self.answered_after("etcd2 restarted", time.monotonic())

    def etcd_unreachable(self):
        probe = MultiBus(self.mesh, [p for i, p in enumerate(self.ports, 1) if i != self.dead_broker])
        for name in ETCD:
            self.procs.freeze(name)
        try:
            # At once: the leader, whose lease still runs, cannot commit the placement.
            self.probe_503(probe, "etcd unreachable, leader's lease running")
            # Once every lease has run out nobody schedules: each broker answers for itself.
            time.sleep(1.5)
            message = self.probe_503(probe, "etcd unreachable, no leader")
            self.assertIn("cannot reach etcd", message)
        finally:
            for name in ETCD:
                self.procs.thaw(name)
            probe.close()
        self.answered_after("etcd resumed", time.monotonic())

    def probe_503(self, probe, what):
        env = probe.request("create-container", {"image": IMAGE, "cmd": ["sleep", "3600"],
                                                 "name": "cut-" + uuid.uuid4().hex[:6]},
                            user="alice", role="user")
        t0 = time.monotonic()
        reply = probe.send("req/any/", env, scaled(10))
        took = time.monotonic() - t0
        self.assertIsNotNone(reply, "no answer to a scheduled create (%s)" % what)
        self.assertEqual(reply.get("code"), 503, reply)
        message = reply.get("error", {}).get("message", "")
        self.assertIn("etcd", message)
        self.assertLess(took, 5.0)
        print("%s: a scheduled create answered 503 after %.2f s: %s" % (what, took, message))
        return message

    def full_restart(self):
        names = ETCD + [self.mesh.broker_name(i) for i in range(1, BROKERS + 1)
                        if i != self.dead_broker]
        names += ["agent-host%d" % i for i in range(1, HOSTS + 1)]
        infos = {n: self.procs.kill9(n) for n in names}
        t0 = time.monotonic()
        for n in names:
            self.procs.start(n, infos[n])
        wait_for(lambda: leader_id(self.mesh), scaled(30), message="a leader after the restart")
        self.answered_after("full restart", t0, timeout=60)

    def check_still_revoked(self, pub):
        rc, out = self.mesh.ctl("keys", "list")
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        states = [k.get("state") for k in out["keys"] if k["public_key"] == pub]
        self.assertEqual(states, ["revoked"], out)
        self.assertTrue(all(not k["active_on"] for k in out["keys"] if k["public_key"] == pub), out)


if __name__ == "__main__":
    unittest.main()
