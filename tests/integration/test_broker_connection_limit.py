"""--max-connections against the real broker: past the limit a CURVE handshake is refused (ZAP
status 500, which libzmq answers with an ERROR and closes the connection, so its file descriptor
is free again); the C++ bus_client connects again after a pause and gets in once a connection
has closed. The broker stays up, counts the refusals and says why in its log."""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_harness import Broker  # noqa: E402
from meshlib import BUILD_DIR, wait_for  # noqa: E402

H1, H2, H3 = "host1.mesh.test", "host2.mesh.test", "host3.mesh.test"
CTL = os.path.join(BUILD_DIR, "bin", "dockmeshctl")


def established(port):
    """Established TCP connections to `port` on the broker's side."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "( sport = :%d )" % port],
                         capture_output=True, text=True, check=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


class BrokerConnectionLimitTest(unittest.TestCase):
    def setUp(self):
        # Four bus connections: two clients (a PUB and a SUB connection each).
        self.b = Broker(agents=(H1, H2, H3), extra_args=["--max-connections", "4"]).start()
        self.addCleanup(lambda: self.b.__exit__(None, None, None))

    def test_a_full_broker_refuses_then_admits_when_a_client_leaves(self):
        first = self.b.bus(self.b.agents[H1], H1)
        first.ready()
        second = self.b.bus(self.b.agents[H2], H2)
        second.ready()
        self.assertEqual(self.b.stats().get("connections_refused", 0), 0)

        # A third client (Python's libzmq client: it does not retry a refusal) is refused, and
        # its connections are closed by the broker at once: only the admitted four stay open.
        third = self.b.bus(self.b.agents[H3], H3)
        self.assertFalse(third.wait_probe(2.0), "a fifth and sixth connection were admitted")
        self.assertGreaterEqual(self.b.stats()["connections_refused"], 2)
        wait_for(lambda: established(self.b.base) + established(self.b.base + 1) == 4, 5,
                 message="refused connections closed by the broker")
        self.assertTrue(second.wait_probe(5.0), "an admitted client lost its bus")

        # dockmeshctl (the C++ bus_client) waits, connecting again after pauses...
        key = os.path.join(self.b.dir, "admin-ctl.key")
        self.b.admin.write(key)
        refused = self.b.stats()["connections_refused"]
        ctl = subprocess.Popen(
            [CTL, "--broker", "127.0.0.1:%d" % self.b.base, "--broker-key", self.b.server.public,
             "--key", key, "--timeout", "30000", "--log-level", "warn", "watch", "dir/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: self.b.stats()["connections_refused"] >= refused + 4, 10,
                     message="dockmeshctl trying again after a refusal")
            self.assertIsNone(ctl.poll(), "dockmeshctl gave up while the broker was full")
            # ...and gets in once a client leaves.
            first.close()
            started = time.monotonic()
            line = ""
            while time.monotonic() - started < 20 and "watching" not in line:
                line = ctl.stderr.readline()
                if not line and ctl.poll() is not None:
                    break
            self.assertIn("watching", line, "dockmeshctl never got in")
        finally:
            ctl.kill()  # SIGTERM waits for wait_ready's end (watch blocks it until then)
            ctl.wait(10)
            ctl.stderr.close()
        self.b.alive()
        log = self.b.tail(400)
        self.assertIn("at most 4 bus connections", log)
        self.assertIn("refusing new ones past --max-connections 4", log)

    def test_the_default_limit_is_the_open_file_limit_less_a_reserve(self):
        import resource
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        b = Broker(agents=(H1,)).start()
        try:
            wait_for(lambda: "bus connections" in b.tail(100), 10, message="start-up line")
            self.assertIn("at most %d bus connections" % max(16, soft - 512), b.tail(100))
        finally:
            b.__exit__(None, None, None)


if __name__ == "__main__":
    unittest.main()
