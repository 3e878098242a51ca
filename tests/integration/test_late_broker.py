"""A broker that starts late answers complete at once (docs/ha.md, "A broker that starts late").

Three brokers on etcd, three agents with private dockerds (scripts/mesh.sh up --brokers 3).
broker-3 is killed; while it is down the mesh changes: a container is created on host2, one is
removed on host1, and host3's agent dies (so host3 goes down). broker-3 is started again with
the same argv and its old RocksDB, which still holds the mesh as it was. Before it serves it
reads brokers/ in etcd and loads a peer's `directory-snapshot`, so its very first `hosts` and
`containers` answers (asked of broker-3 alone, on its own ROUTER endpoint) equal broker-1's:
the same hosts with the same status, the same container ids. Without the snapshot the first
answers would show host3 up, the removed container and not the new one (announcements take ~1 s
to arrive, a dead host 3.2 s to be marked down).
Also: the first broker of an empty etcd starts with no peer and says so in its log.
"""

import os
import sys
import time
import unittest

import zmq

from broker_harness import Control

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))
from faultlib import (IMAGE, Mesh, Processes, broker_public_key, read_key_file,  # noqa: E402
                      scaled, stable_container_view, stable_host_view, wait_for)

HOSTS = 3
BROKERS = 3


class _Key:
    def __init__(self, path):
        k = read_key_file(path)
        self.public, self.secret = k["public-key"], k["secret-key"]


def run_container(mesh, i, name):
    status, out = mesh.docker(i, "POST", "/containers/create?name=" + name,
                              {"Image": IMAGE, "Cmd": ["sleep", "600"],
                               "HostConfig": {"NetworkMode": "none"}})
    assert status == 201, (status, out)
    status, out2 = mesh.docker(i, "POST", "/containers/%s/start" % out["Id"])
    assert status == 204, (status, out2)
    return out["Id"]


def view(control, timeout=5):
    """({fqdn: stable host view}, {id: stable container view}) from one broker, or None."""
    code, hosts = control.call("hosts", {}, timeout=timeout)
    if code != 200:
        return None
    code, containers = control.call("containers", {}, timeout=timeout)
    if code != 200:
        return None
    return ({h["fqdn"]: stable_host_view(h) for h in hosts["hosts"]},
            {c["id"]: stable_container_view(c) for c in containers["containers"]})


def read_log(mesh, name):
    with open(mesh.path("logs", name + ".log"), errors="replace") as f:
        return f.read()


class LateBrokerTest(unittest.TestCase):
    def test_a_restarted_broker_answers_with_a_peers_directory(self):
        with Mesh(hosts=HOSTS, brokers=BROKERS, bridge=False, timeout=120) as mesh:
            procs = Processes(mesh)
            ctx = zmq.Context()
            key = _Key(mesh.path("admin.key"))
            server = broker_public_key(mesh)

            def control(i):
                return Control(ctx, "tcp://127.0.0.1:%d" % (mesh.broker_port(i) + 2), server, key)

            b1 = control(1)
            try:
                self.check_first_broker_had_no_peer(mesh)
                ids = {i: [run_container(mesh, i, "late-%d-%d" % (i, n)) for n in range(2)]
                       for i in range(1, HOSTS + 1)}
                every = {c for per_host in ids.values() for c in per_host}
                wait_for(lambda: (v := view(b1)) and every <= set(v[1]) and
                         all(h["status"] == "up" for h in v[0].values()) and len(v[0]) == HOSTS,
                         scaled(30), message="broker-1 lists every host up and every container")

                info = procs.kill9(mesh.broker_name(3))
                added = run_container(mesh, 2, "late-added")
                removed = ids[1][0]
                status, _ = mesh.docker(1, "DELETE", "/containers/%s?force=1" % removed)
                self.assertEqual(status, 204)
                procs.kill9("agent-host3")
                expected = wait_for(
                    lambda: (v := view(b1)) and added in v[1] and removed not in v[1] and
                    v[0].get("host3.mesh.test", {}).get("status") == "down" and v,
                    scaled(30), message="broker-1 sees the changes made while broker-3 was down")

                t0 = time.monotonic()
                procs.start(mesh.broker_name(3), info)
                b3 = control(3)  # connects now; the request waits until broker-3 serves
                try:
                    first = view(b3, timeout=scaled(15))
                    elapsed = time.monotonic() - t0
                finally:
                    b3.close()
                self.assertIsNotNone(first, "broker-3 did not answer after its restart; its "
                                     "log ends:\n" + read_log(mesh, mesh.broker_name(3))[-3000:])
                now = view(b1)
                print("broker-3 restarted: first answer %.2f s after start, %d hosts, "
                      "%d containers" % (elapsed, len(first[0]), len(first[1])))
                self.assertEqual(first[0], expected[0])
                self.assertEqual(first[0], now[0])
                self.assertEqual(set(first[1]), set(now[1]))
                self.assertEqual(first[1], now[1])
                self.assertIn(added, first[1])
                self.assertNotIn(removed, first[1])
                self.assertEqual(first[0]["host3.mesh.test"]["status"], "down")
                self.assertRegex(read_log(mesh, mesh.broker_name(3)),
                                 r"directory from broker-[12]: 3 hosts, \d+ containers in \d+ ms")
            finally:
                b1.close()
                ctx.term()

    def check_first_broker_had_no_peer(self, mesh):
        logs = [read_log(mesh, mesh.broker_name(i)) for i in range(1, BROKERS + 1)]
        self.assertIn("starting without a directory snapshot: no other broker is recorded in "
                      "etcd", logs[0])
        for text in logs:
            self.assertRegex(text, r"directory from broker-\d|starting without a directory")


if __name__ == "__main__":
    unittest.main()
