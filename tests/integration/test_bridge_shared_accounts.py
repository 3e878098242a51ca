"""Two bridges behind one load balancer serve the same users: with --etcd (scripts/mesh.sh up
--brokers 2 gives the mesh's bridge the brokers' etcd) a bridge keeps its users, API tokens and
JWT signing key in etcd (ui-bridge/etcd_kv_store, docs/ha.md). This test starts a second bridge
with the first one's arguments and its own data directory, and checks, as an operator would:
the second bridge makes no admin of its own; a password, a session and an API token from one
bridge are good on the other; a revocation or a removal on one holds on the other within 1 s
(it follows etcd's watch); a name taken on both bridges at the same moment is created once;
while every etcd member is frozen, logins and token checks still work from the bridges' copies
and a change is refused with 503 naming etcd, and works again once etcd is back."""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from bridgelib import Bridge, admin_password, free_port
from dmtest.process import stop_child
from meshlib import Mesh, wait_for

BROKERS = 2
PROPAGATION_S = 1.0  # a change through one bridge holds on the other within this


def second_bridge_argv(mesh, port, data_dir):
    """The mesh's bridge's own command line with another data directory and listener, and
    neither the first-start password file nor a metrics listener."""
    with open("/proc/%d/cmdline" % mesh.pid("bridge"), "rb") as f:
        argv = [a.decode() for a in f.read().split(b"\0") if a]
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a in ("--admin-password-file", "--metrics-listen", "--docker-api-listen"):
            i += 2
            continue
        if a == "--data-dir":
            out += [a, data_dir]
            i += 2
            continue
        if a == "--listen":
            out += [a, "127.0.0.1:%d" % port]
            i += 2
            continue
        out.append(a)
        i += 1
    assert "--etcd" in out, "the mesh's bridge runs without --etcd: %s" % out
    return out


class SharedAccounts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1, brokers=BROKERS).up()
        cls.dir = tempfile.mkdtemp(prefix="dm-bridge2-")
        cls.port = free_port()
        # Beside the mesh's own logs, so that Mesh.dump_logs() shows it too.
        cls.log = open(cls.mesh.path("logs", "bridge2.log"), "w+")
        cls.proc = subprocess.Popen(
            second_bridge_argv(cls.mesh, cls.port, os.path.join(cls.dir, "data")),
            stdout=cls.log, stderr=subprocess.STDOUT)
        cls.a = Bridge.admin(cls.mesh)
        cls.b_anon = cls.on_b(Bridge(cls.mesh))

        def b_answers():
            assert cls.proc.poll() is None, "the second bridge exited: " + cls.b_log()
            try:
                return cls.b_anon.get("/", token="").status == 200
            except OSError:
                return False
        wait_for(b_answers, timeout=30, interval=0.1, message="the second bridge to answer")

    @classmethod
    def tearDownClass(cls):
        stop_child(cls.proc)
        cls.log.close()
        shutil.rmtree(cls.dir, ignore_errors=True)
        cls.mesh.down()

    @classmethod
    def b_log(cls):
        cls.log.flush()
        with open(cls.log.name) as f:
            return f.read()[-4000:]

    @classmethod
    def on_b(cls, client):
        client.port = cls.port
        return client

    def b_login(self, user, password):
        return self.b_anon.post("/api/v1/login", {"username": user, "password": password},
                                token="")

    def until_b(self, predicate, what):
        start = time.monotonic()
        wait_for(predicate, timeout=PROPAGATION_S, interval=0.02, message=what)
        return time.monotonic() - start

    def test_1_one_admin_and_one_signing_key(self):
        self.assertNotIn("created user 'admin'", self.b_log())
        r = self.b_login("admin", admin_password(self.mesh))
        self.assertEqual(r.status, 200, r)
        # A session signed by bridge A is good on bridge B: one signing key, in etcd.
        self.assertEqual(self.on_b(Bridge(self.mesh, token=self.a.token)).get("/api/v1/whoami").status,
                         200)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "data", "jwt.key")))

    def test_2_a_user_and_a_token_from_one_bridge_work_on_the_other(self):
        self.a.make_user("carol", password="carol-password-1")
        # B learns of the user through etcd's watch: within PROPAGATION_S, not at once.
        took = self.until_b(lambda: self.b_login("carol", "carol-password-1").status == 200,
                            "bridge B to accept the user made on A")
        print("a new user reached the other bridge in %.0f ms" % (took * 1000))
        carol_b = self.on_b(Bridge(self.mesh))
        carol_b.login("carol", "carol-password-1")
        made = carol_b.post("/api/v1/tokens", {"name": "ci"})
        self.assertEqual(made.status, 201, made)
        token = made.json["token"]
        # Made on B: good on A once A's watch has it.
        self.until_b(lambda: Bridge(self.mesh, token=token).get("/api/v1/whoami").status == 200,
                     "bridge A to accept the token made on B")
        # Revoked on A: refused on B within PROPAGATION_S.
        self.assertEqual(self.a.delete("/api/v1/tokens/" + made.json["id"]).status, 200)
        took = self.until_b(lambda: self.on_b(Bridge(self.mesh, token=token)).get(
            "/api/v1/whoami").status == 401, "bridge B to refuse the revoked token")
        print("token revocation reached the other bridge in %.0f ms" % (took * 1000))

    def test_3_a_removed_user_cannot_log_in_on_the_other_bridge(self):
        self.a.make_user("dave", password="dave-password-1")
        self.until_b(lambda: self.b_login("dave", "dave-password-1").status == 200,
                     "bridge B to accept the user made on A")
        admin_b = self.on_b(Bridge(self.mesh))
        admin_b.login("admin", admin_password(self.mesh))
        self.assertEqual(admin_b.delete("/api/v1/users/dave").status, 200)
        self.until_b(lambda: self.a.post("/api/v1/login", {"username": "dave",
                                                           "password": "dave-password-1"},
                                         token="").status == 401,
                     "bridge A to refuse the removed user")

    def test_4_a_name_taken_on_both_bridges_at_once_is_created_once(self):
        admin_b = self.on_b(Bridge(self.mesh))
        admin_b.login("admin", admin_password(self.mesh))
        codes = []

        def add(client, password):
            codes.append(client.post("/api/v1/users", {"name": "erin", "role": "user",
                                                       "password": password}).status)
        threads = [threading.Thread(target=add, args=(self.a, "erin-from-a-1")),
                   threading.Thread(target=add, args=(admin_b, "erin-from-b-1"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(codes), [201, 409])
        # Both bridges agree on which password won.
        winner = "erin-from-a-1" if self.b_login("erin", "erin-from-a-1").status == 200 \
            else "erin-from-b-1"
        self.assertEqual(self.a.post("/api/v1/login", {"username": "erin", "password": winner},
                                     token="").status, 200)

    def test_5_while_etcd_is_frozen_reads_work_and_writes_say_why_they_fail(self):
        members = [self.mesh.pid("etcd%d" % k) for k in (1, 2, 3)]
        self.assertNotIn(None, members)
        for pid in members:
            os.kill(pid, signal.SIGSTOP)
        try:
            b_admin = self.on_b(Bridge(self.mesh))
            self.assertEqual(self.b_login("admin", admin_password(self.mesh)).status, 200)
            b_admin.login("admin", admin_password(self.mesh))
            self.assertEqual(b_admin.get("/api/v1/whoami").status, 200)
            start = time.monotonic()
            r = self.a.post("/api/v1/users", {"name": "frank", "role": "user",
                                              "password": "frank-password-1"})
            took = time.monotonic() - start
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.error()[0], "unavailable")
            self.assertIn("etcd at http://127.0.0.1", r.error()[1])
            self.assertLess(took, 10, "a write to a frozen etcd must fail within its timeouts")
        finally:
            for pid in members:
                os.kill(pid, signal.SIGCONT)
        # The refused add may still have been committed: etcd took the request while frozen and
        # applied it on waking; only its answer was lost (docs/ha.md). So a retry answers 201,
        # or 409 when that first write won; either way the user exists on both bridges.
        wait_for(lambda: self.a.post("/api/v1/users", {"name": "frank", "role": "user",
                                                       "password": "frank-password-1"}
                                     ).status in (201, 409),
                 timeout=30, interval=0.5, message="a user add to work again once etcd is back")
        self.until_b(lambda: self.b_login("frank", "frank-password-1").status == 200,
                     "bridge B to know the user added once etcd was back")


if __name__ == "__main__":
    unittest.main()
