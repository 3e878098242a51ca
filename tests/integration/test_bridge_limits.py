"""The bridge's limits and lifecycle against a real mesh: request size caps (413), the open
connection cap, a clean exit on SIGTERM with connections still open, and jobs surviving kill -9
(a job cut off by it is reported failed, not left running)."""

import os
import socket
import subprocess
import time
import unittest

from bridgelib import Bridge, WebSocket, free_port, read_text
from dmtest.process import stop_child
from meshlib import BUILD_DIR, Mesh, wait_for

BRIDGE_BIN = os.path.join(BUILD_DIR, "bin", "dockmesh-bridge")


class ExtraBridge:
    """A second dockmesh-bridge on the mesh (same bridge key), with options of our choosing."""

    def __init__(self, mesh, name, *options):
        self.mesh = mesh
        self.port = free_port()
        self.data = mesh.path(name)
        self.password_file = mesh.path(name + ".password")
        self.log = open(mesh.path("logs", name + ".log"), "ab")
        self.argv = [BRIDGE_BIN, "--data-dir", self.data, "--listen", "127.0.0.1:%d" % self.port,
                     "--broker", "127.0.0.1:%d" % mesh.base_port, "--broker-key", mesh.path("broker.pub"),
                     "--key", mesh.path("bridge.key"), "--admin-password-file", self.password_file]
        self.argv += list(options)
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return os.path.exists(self.password_file)
            except OSError:
                return False
        wait_for(up, timeout=30, message="extra bridge on port %d" % self.port)

    def client(self):
        b = Bridge(self.mesh)
        b.port = self.port
        b.login("admin", read_text(self.password_file))
        return b

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self, timeout=20):
        return stop_child(self.proc, timeout)

    def close(self):
        self.stop()
        self.log.close()


class BridgeLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1).up()

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()

    def test_oversized_requests_are_413(self):
        admin = Bridge.admin(self.mesh)
        big = admin.request("POST", "/api/v1/messages", raw=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                            headers={"Content-Type": "application/json"})
        self.assertEqual(big.status, 413, big)
        self.assertEqual(big.error()[0], "too_large")
        huge_header = admin.request("GET", "/api/v1/hosts", headers={"X-Junk": "x" * 20000})
        self.assertEqual(huge_header.status, 413, huge_header)
        self.assertEqual(admin.get("/api/v1/whoami").status, 200)  # and the bridge carries on

    def test_connection_cap_refuses_then_recovers(self):
        extra = ExtraBridge(self.mesh, "capped", "--max-connections", "3")
        try:
            client = extra.client()
            idle = [socket.create_connection(("127.0.0.1", extra.port)) for _ in range(3)]

            def refused():
                try:
                    return client.get("/api/v1/whoami", timeout=5).status != 200
                except (ConnectionError, OSError, Exception):
                    return True
            wait_for(refused, timeout=10, message="the 4th connection refused")
            for s in idle:
                s.close()
            wait_for(lambda: not refused(), timeout=10, message="connections accepted again")
        finally:
            self.assertEqual(extra.stop(), 0)
            extra.close()

    def test_sigterm_with_open_connections_exits_cleanly(self):
        extra = ExtraBridge(self.mesh, "term")
        try:
            client = extra.client()
            ws = WebSocket("127.0.0.1", extra.port, "/api/v1/ws",
                           headers={"Authorization": "Bearer " + client.token})
            ws.next(lambda f: f.get("type") == "hello")
            idle = socket.create_connection(("127.0.0.1", extra.port))
            started = time.monotonic()
            self.assertEqual(extra.stop(), 0)
            self.assertLess(time.monotonic() - started, 10)
            idle.close()
            ws.close()
        finally:
            extra.close()

    def test_a_job_cut_off_by_a_restart_is_reported_failed(self):
        # A create sent to a host that does not exist stays pending until its deadline (120 s);
        # the bridge is killed meanwhile (no chance to fail it) and must not report it "running"
        # forever after it comes back.
        extra = ExtraBridge(self.mesh, "restart")
        try:
            client = extra.client()
            r = client.post("/api/v1/containers", {"image": "local/busybox:latest",
                                                    "host": "nohost.mesh.test"})
            self.assertEqual(r.status, 202, r)
            job_id = r.json["id"]
            self.assertEqual(client.get("/api/v1/jobs/" + job_id).json["state"], "running")
            extra.kill()
            extra.start()
            client = extra.client()  # same data dir: same users, same signing key
            j = client.get("/api/v1/jobs/" + job_id)
            self.assertEqual(j.status, 200, j)
            self.assertEqual(j.json["state"], "failed")
            self.assertEqual(j.json["status"], 503)
            self.assertIn("restarted", j.json["error"]["message"])
        finally:
            extra.close()


if __name__ == "__main__":
    unittest.main()
