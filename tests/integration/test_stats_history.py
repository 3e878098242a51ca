"""Stats history on a real one-host mesh (dockerd, broker, agent, bridge, CURVE; docs/bridge.md,
"Stats history"): the bridge samples Alice's running container on its own (no reader open), her
history fills with increasing times and real memory figures, ?since= narrows it, the host's
history (its containers summed) is for admins only, and Bob gets exactly the 404 of a missing
container for Alice's history. The bridge samples every second here (--stats-interval 1). Last,
the bridge is stopped (SIGTERM) and started again: the history it had is read back from its data
dir (stats-history.msgpack), points from before the restart included."""

import os

import time
import unittest

from agent_bus import start_process, stop_process
from bridgelib import Bridge, create_message, two_users
from meshlib import Mesh, wait_for

TICKER = "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.2; done"


class StatsHistory(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1, bridge_args=["--stats-interval=1"]).up()
        cls.h1 = cls.mesh.fqdn(1)
        cls.admin, cls.alice, cls.bob, _, _ = two_users(cls.mesh)
        r = cls.alice.send(create_message(cls.h1, "ticker", ["sh", "-c", TICKER]))
        assert r.status == 201, r
        cls.ticker = r.json["body"]["id"]

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()  # stops the restarted bridge too (its pid is where mesh.sh looks)
        if getattr(cls, "restarted", None):
            cls.restarted.wait(timeout=30)

    def test_history_fills_for_a_running_container(self):
        path = "/api/v1/containers/%s/stats/history" % self.ticker
        started = time.monotonic()

        def three_samples():
            r = self.alice.get(path)
            self.assertEqual(r.status, 200, r)
            return r if len(r.json["samples"]) >= 3 else None
        r = wait_for(three_samples, timeout=40, interval=0.5, message="3 samples of history")
        print("3 samples after %.1f s" % (time.monotonic() - started))
        body = r.json
        self.assertEqual(body["id"], self.ticker)
        self.assertEqual(body["host"], self.h1)
        self.assertEqual(body["step_s"], 1)
        self.assertEqual(body["window_s"], 24 * 3600)
        times = [s["t"] for s in body["samples"]]
        self.assertEqual(times, sorted(set(times)), "times increase strictly")
        self.assertTrue(all(s["memory_bytes"] > 0 for s in body["samples"]), body["samples"])
        for key in ("cpu_percent", "network_rx_bytes", "network_tx_bytes", "block_read_bytes",
                    "block_write_bytes"):
            self.assertIn(key, body["samples"][0])
        # ?since= keeps the samples at or after that time.
        later = self.alice.get(path + "?since=%d" % times[-1]).json["samples"]
        self.assertEqual([s["t"] for s in later][:1], [times[-1]])
        self.assertEqual(self.alice.get(path + "?since=soon").status, 400)
        # The host's history: its containers summed; admins only.
        hpath = "/api/v1/hosts/%s/stats/history" % self.h1
        host = wait_for(lambda: (lambda r: r if r.status == 200 and r.json["samples"] else None)(
            self.admin.get(hpath)), timeout=20, interval=0.5, message="host history")
        self.assertGreater(host.json["samples"][-1]["memory_bytes"], 0)
        self.assertEqual(self.alice.get(hpath).status, 403)
        self.assertEqual(self.admin.get("/api/v1/hosts/no-such-host/stats/history").status, 404)

    def test_another_user_gets_404_for_alices_history(self):
        path = "/api/v1/containers/%s/stats/history" % self.ticker
        mine = self.alice.get(path)
        self.assertEqual(mine.status, 200, mine)
        theirs = self.bob.get(path)
        missing = self.bob.get("/api/v1/containers/%s/stats/history" % ("0" * 64))
        self.assertEqual(theirs.status, 404, theirs)
        self.assertEqual(missing.status, 404, missing)
        self.assertEqual(theirs.error()[0], missing.error()[0])
        self.assertNotIn("samples", theirs.json)

    def test_z_history_survives_a_bridge_restart(self):  # z: last, the others use this bridge
        path = "/api/v1/containers/%s/stats/history" % self.ticker
        before = wait_for(lambda: (lambda r: r.json["samples"] if r.status == 200 and len(r.json["samples"]) >= 3
                                   else None)(self.alice.get(path)),
                          timeout=40, interval=0.5, message="3 samples before the restart")
        argv = stop_process(self.mesh, "bridge")  # SIGTERM: the bridge saves as it stops
        stopped_ms = int(time.time() * 1000)
        saved = self.mesh.path("bridge", "stats-history.msgpack")
        self.assertTrue(os.path.isfile(saved))
        size = os.path.getsize(saved)
        self.__class__.restarted = start_process(self.mesh, "bridge", argv)
        alice = wait_for(lambda: self._login_again("alice"), timeout=30, interval=0.2,
                         message="the restarted bridge to answer")
        r = alice.get(path)
        self.assertEqual(r.status, 200, r)
        after = [s["t"] for s in r.json["samples"]]
        restored = [t for t in after if t < stopped_ms]
        # Every point but the newest one read (a later sample of its step may have merged into
        # it before the save) is back, unchanged; they predate this bridge, so they were read.
        self.assertTrue(set(s["t"] for s in before[:-1]) <= set(restored),
                        "before %r, after %r" % ([s["t"] for s in before], after))
        old = {s["t"]: s for s in r.json["samples"]}
        for s in before[:-1]:
            self.assertEqual(old[s["t"]]["memory_bytes"], s["memory_bytes"])
        print("restored %d point(s) from a %d-byte file" % (len(restored), size))
        # A file that is not a history (damaged on disk) is set aside with a warning: the bridge
        # starts, with no history from before.
        stop_process(self.mesh, "bridge")
        with open(saved, "wb") as f:
            f.write(b"\x93 not a stats history file")
        stopped_ms = int(time.time() * 1000)
        self.__class__.restarted = start_process(self.mesh, "bridge", argv)
        alice = wait_for(lambda: self._login_again("alice"), timeout=30, interval=0.2,
                         message="the bridge to start beside a damaged history file")
        r = alice.get(path)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([s for s in r.json["samples"] if s["t"] < stopped_ms], [])
        self.assertTrue(os.path.isfile(saved + ".unreadable"))
        with open(self.mesh.path("logs", "bridge.log")) as f:
            self.assertIn("stats history not restored", f.read())

    def _login_again(self, name):
        b = Bridge(self.mesh)
        try:
            b.login(name, name + "-password-1")
        except (AssertionError, OSError):
            return None
        return b


if __name__ == "__main__":
    unittest.main()
