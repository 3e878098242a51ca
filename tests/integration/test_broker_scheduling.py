"""The scheduler against real agents and real dockerds (scripts/mesh.sh through meshlib):
each filter and each strategy places create-container requests sent on req/any/ by dockmeshctl,
and the result is checked in each host's own Docker API.

Hosts: host1 region=eu disk=ssd, host2 region=eu disk=hdd, host3 region=us disk=ssd.
Tests run in name order on one mesh; each counts containers before and after itself."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from meshlib import Mesh, wait_for  # noqa: E402

IMAGE = "local/busybox:latest"
HOSTS = (1, 2, 3)
LABELS = {1: {"region": "eu", "disk": "ssd"}, 2: {"region": "eu", "disk": "hdd"},
          3: {"region": "us", "disk": "ssd"}}


class BrokerSchedulingTest(unittest.TestCase):
    mesh = None

    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=3, labels=LABELS, bridge=False).up()

    @classmethod
    def tearDownClass(cls):
        if cls.mesh:
            cls.mesh.down()

    def tearDown(self):
        result = getattr(self._outcome, "result", None)
        if result and any(t is self for t, _ in result.failures + result.errors):
            self.mesh.dump_logs()

    def counts(self):
        return {i: len(self.mesh.container_ids(i)) for i in HOSTS}

    def create(self, **fields):
        msg = {"action": "create-container", "image": IMAGE, "cmd": ["sleep", "600"],
               "network_mode": "none"}
        msg.update(fields)
        rc, reply = self.mesh.send(msg, "--timeout", "30000")
        self.assertIsInstance(reply, dict, self.mesh.last_stderr)
        return rc, reply

    def placed(self, before, **fields):
        """Creates, expects success, returns {host index: new containers}."""
        rc, reply = self.create(**fields)
        self.assertEqual(rc, 0, reply)
        self.assertIn(reply["code"], (200, 201), reply)
        after = self.counts()
        return {i: after[i] - before[i] for i in HOSTS if after[i] != before[i]}

    def wait_directory(self, expected_total):
        """Until the broker's container index (fed by agents' inventories) has caught up."""
        def total():
            rc, out = self.mesh.ctl("containers")
            return rc == 0 and len(out.get("containers", [])) == expected_total
        wait_for(total, 15, message="directory to list %d containers" % expected_total)

    def test_1_spread_puts_instances_on_different_hosts(self):
        before = self.counts()
        rc, reply = self.create(instances=3, name="spread")
        self.assertEqual((rc, reply["code"]), (0, 201), reply)
        # One combined reply from the broker for the three per-host sub-requests.
        self.assertEqual(reply["from"], "broker-1")
        self.assertEqual(sorted(h["host"] for h in reply["body"]["hosts"]),
                         ["host%d.mesh.test" % i for i in HOSTS])
        self.assertEqual(len(reply["body"]["containers"]), 3)
        after = self.counts()
        self.assertEqual({i: after[i] - before[i] for i in HOSTS}, {1: 1, 2: 1, 3: 1})
        self.wait_directory(sum(before.values()) + 3)

    def test_2_constraints(self):
        before = self.counts()
        self.assertEqual(self.placed(before, constraints=["region==eu", "disk!=hdd"]), {1: 1})
        before = self.counts()
        self.assertEqual(self.placed(before, constraints=["region!=eu"]), {3: 1})
        rc, reply = self.create(constraints=["region==ap"])
        self.assertEqual(reply["code"], 503, reply)
        self.assertIn("constraints", reply["error"]["message"])
        self.assertEqual(reply["body"]["excluded"]["constraints"], 3)
        self.wait_directory(sum(self.counts().values()))

    def test_3_candidates(self):
        before = self.counts()
        self.assertEqual(self.placed(before, candidates=["host2.mesh.test"]), {2: 1})
        rc, reply = self.create(candidates=["host9.mesh.test"])
        self.assertEqual(reply["code"], 503)
        self.assertEqual(reply["body"]["excluded"]["candidates"], 3)
        self.wait_directory(sum(self.counts().values()))

    def test_4_memory(self):
        rc, reply = self.create(memory=1 << 50)  # a petabyte fits nowhere
        self.assertEqual(reply["code"], 503, reply)
        self.assertEqual(reply["body"]["excluded"]["memory"], 3)
        before = self.counts()
        got = self.placed(before, memory=64 << 20)
        self.assertEqual(sum(got.values()), 1)
        self.wait_directory(sum(self.counts().values()))

    def test_5_unique(self):
        image = "localhost/unique-test:latest"
        # Tag the same busybox under a new name on every host, so unique has an image of its own.
        for i in HOSTS:
            status, _ = self.mesh.docker(i, "POST", "/images/local/busybox:latest/tag?repo=localhost/unique-test&tag=latest")
            self.assertEqual(status, 201)
        before = self.counts()
        got = self.placed(before, image=image, unique=True, candidates=["host1.mesh.test", "host3.mesh.test"])
        self.assertEqual(len(got), 1)
        self.wait_directory(sum(self.counts().values()))
        before = self.counts()
        got2 = self.placed(before, image=image, unique=True, candidates=["host1.mesh.test", "host3.mesh.test"])
        self.assertEqual(len(got2), 1)
        self.assertNotEqual(set(got), set(got2), "unique put two on one host")
        self.wait_directory(sum(self.counts().values()))
        rc, reply = self.create(image=image, unique=True, candidates=["host1.mesh.test", "host3.mesh.test"])
        self.assertEqual(reply["code"], 503, reply)
        self.assertEqual(reply["body"]["excluded"]["unique"], 2)

    def test_6_binpack(self):
        self.wait_directory(sum(self.counts().values()))
        before = self.counts()
        fullest = max(HOSTS, key=lambda i: (before[i], -i))
        got = self.placed(before, strategy="binpack", instances=2)
        self.assertEqual(got, {fullest: 2})
        self.wait_directory(sum(self.counts().values()))

    def test_7_random_stays_within_the_filters(self):
        seen = set()
        for _ in range(4):
            before = self.counts()
            got = self.placed(before, strategy="random", constraints=["disk==ssd"])
            self.assertEqual(sum(got.values()), 1)
            seen |= set(got)
        self.assertTrue(seen <= {1, 3}, seen)

    def test_8_down_host_is_not_chosen(self):
        self.wait_directory(sum(self.counts().values()))
        os.kill(self.mesh.pid("agent-host3"), 15)
        wait_for(lambda: any(h["fqdn"] == "host3.mesh.test" and h["status"] == "down"
                             for h in self.mesh.ctl("hosts")[1]["hosts"]), 10)
        before = self.counts()
        got = self.placed(before, instances=4)
        self.assertEqual(sum(got.values()), 4)
        self.assertTrue(set(got) <= {1, 2}, got)
        rc, reply = self.create(candidates=["host3.mesh.test"])
        self.assertEqual(reply["code"], 503)
        self.assertEqual(reply["body"]["excluded"]["healthy"], 1)


if __name__ == "__main__":
    unittest.main()
