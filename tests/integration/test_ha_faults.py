"""HA faults, the short version that runs in CTest (the soak with every fault is
tests/faults/ha_faults.py, run many times by scripts/ha_soak.sh).

Three brokers on a three-member etcd cluster, three agents with private dockerds, every client
connected to every broker (scripts/mesh.sh up --brokers 3). Promised (docs/ha.md):
- a key revoked at one broker is cut off on every broker within 1 s;
- scheduled creates (single and `instances: 3`, spread), each retried with the same id until
  answered and once more after, survive `kill -9` of the scheduling leader and a 5 s SIGSTOP of
  the next leader: the third broker takes over while the second is frozen; when the frozen one
  resumes every broker names the third as leader (the resumed one's lease is gone, and agents
  refuse its epoch);
- the checker reads every dockerd: each acknowledged create has exactly its containers (by the
  dockmesh.request label), none twice;
- an agent refuses (409) a request whose scheduler epoch is older than the highest it has seen;
- before those faults, the leader (broker 3, made leader by freezing the others, in a network
  namespace of its own: mesh.sh --broker-netns 3) is cut off from etcd, the agents and every
  client for 5 s: another broker leads and answers, the cut-off one stops scheduling, and after
  the heal every broker, the healed one too, names the new leader.
"""

import os
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
from faultlib import Mesh, Processes, scaled, wait_for  # noqa: E402
from halib import (BROKERS, HOSTS, MultiBus, Workload, check_dockerds, check_fencing,  # noqa: E402
                   check_revocation, force_leader, leader_id, new_leader, partition_leader)

FREEZE_S = 5.0


class HaFaultsTest(unittest.TestCase):
    def test_kill_and_freeze_the_leader(self):
        with Mesh(hosts=HOSTS, brokers=BROKERS, bridge=False, timeout=120,
                  broker_netns=BROKERS) as mesh:
            procs = Processes(mesh)
            ports = [mesh.broker_port(i) for i in range(1, BROKERS + 1)]
            wait_for(lambda: leader_id(mesh), scaled(15), message="an elected leader")
            check_revocation(self, mesh, ports)
            force_leader(mesh, procs, BROKERS)
            bus = MultiBus(mesh, ports)
            work = Workload(bus, limit=200)  # stopped once the faults are over (40 ran out once)
            work.start()
            partition_leader(self, mesh, work)
            self.kill_then_freeze(mesh, procs, work)
            work.wait_ack_after(time.monotonic(), 30)  # and after the frozen broker resumed
            work.stop_flag.set()
            work.join(scaled(120))
            self.assertFalse(work.is_alive(), "workload did not finish")
            self.assertEqual(work.failed, [], "creates that were never acknowledged with 201")
            check_dockerds(self, mesh, work.acked)
            check_fencing(self, bus)
            bus.close()

    def kill_then_freeze(self, mesh, procs, work):
        work.wait_acks(2, 60)
        first = leader_id(mesh)
        self.assertIsNotNone(first)
        t_kill = time.monotonic()
        procs.kill9(mesh.broker_name(first))
        print("leader broker-%d killed: a create sent after it answered after %.2f s"
              % (first, work.wait_ack_after(t_kill, 30) - t_kill))
        second = new_leader(mesh, {first}, 10)
        work.wait_acks(len(work.acked) + 1, 30)
        # SIGSTOP for 5 s whatever happens: the third broker must take over meanwhile.
        procs.freeze(mesh.broker_name(second))
        t_freeze = time.monotonic()
        thaw = threading.Timer(FREEZE_S, procs.thaw, [mesh.broker_name(second)])
        thaw.start()
        try:
            print("leader broker-%d frozen: a create sent after it answered after %.2f s"
                  % (second, work.wait_ack_after(t_freeze, 15) - t_freeze))
        finally:
            thaw.join()
        third = new_leader(mesh, {first, second}, 10)
        return first, second, third


if __name__ == "__main__":
    unittest.main()
