"""Streams on a real one-host mesh (dockerd, broker, agent, bridge, CURVE; docs/streams.md):
`dockmeshctl logs -f` sees lines printed after it started; a browser-style WebSocket follows logs
and stats; another user can follow nothing of Alice's, neither through the bridge nor on the bus
as an admin-key client acting for Bob; a reader that grants no credit gets at most one window
while the container keeps printing, and neither the agent's nor the broker's memory grows; a
cancelled stream and one whose reader stopped renewing its lease both end."""

import os
import signal
import sys
import subprocess
import threading
import time
import unittest

from agent_bus import AgentBus
from bridgelib import create_message, two_users
from meshlib import Mesh, wait_for

TICKER = "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.2; done"
# About 1 MB/s of output: far more than a reader without credit may receive.
FLOOD = ("while true; do i=0; while [ $i -lt 1000 ]; do "
         "echo flood-flood-flood-flood-flood-flood-flood-flood-flood-flood-flood-flood-flood-$i; "
         "i=$((i+1)); done; sleep 0.1; done")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


class Streams(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1).up()
        cls.h1 = cls.mesh.fqdn(1)
        cls.admin, cls.alice, cls.bob, _, cls.bob_id = two_users(cls.mesh)
        cls.ticker = cls.create(cls.alice, "ticker", TICKER)
        cls.flood = cls.create(cls.alice, "flood", FLOOD)
        cls.bus = AgentBus(cls.mesh)

    @classmethod
    def tearDownClass(cls):
        cls.bus.close()
        cls.mesh.down()

    @classmethod
    def create(cls, who, name, script):
        r = who.send(create_message(cls.h1, name, ["sh", "-c", script]))
        assert r.status == 201, r
        return r.json["body"]["id"]

    # ------------------------------------------------------------------ helpers

    def open_on_bus(self, action, body, **fields):
        env = self.bus.envelope(action, body, **fields)
        self.bus.publish("req/host/%s/" % self.h1, env)
        early = []
        reply = self.bus.wait_reply(env["id"], 15, other=lambda t, e: early.append(e))
        return env["id"], reply, early

    def pieces(self, stream, seconds, early=()):
        """stream-data bodies of `stream` for `seconds` (and the stream-end body, if one came)."""
        got = [e["body"] for e in early if e.get("body", {}).get("stream") == stream]
        end = None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and end is None:
            m = self.bus.receive(min(0.2, max(0, deadline - time.monotonic())))
            if not m or m[1].get("body", {}).get("stream") != stream:
                continue
            if m[1]["action"] == "stream-end":
                end = m[1]["body"]
            else:
                got.append(m[1]["body"])
            if time.monotonic() > getattr(self, "_renew_at", 0):
                self.renew(stream, 0)
        return got, end

    def renew(self, stream, credit):
        self._renew_at = time.monotonic() + 2
        self.bus.publish("req/host/%s/" % self.h1,
                         self.bus.envelope("stream-credit", {"stream": stream, "credit": credit}))

    # ------------------------------------------------------------------ tests

    def test_cli_follow_sees_lines_printed_after_it_started(self):
        argv = self.mesh.ctl_argv("logs", "-f", "--tail", "0", self.ticker)
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watchdog = threading.Timer(30, p.kill)  # a hung follow fails the test instead of hanging it
        watchdog.start()
        try:
            lines = []
            started = time.monotonic()
            while len(lines) < 3 and time.monotonic() - started < 15:
                line = p.stdout.readline()
                if not line:
                    break
                lines.append(line.strip())
            self.assertEqual(len(lines), 3, "stderr: %s" % (p.stderr.read() if p.poll() is not None else ""))
            numbers = [int(l.split("-")[1]) for l in lines]
            self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 3)), lines)
        finally:
            p.send_signal(signal.SIGINT)
            rc = p.wait(timeout=10)
            watchdog.cancel()
        self.assertEqual(rc, 0)

    def test_cli_stats_prints_samples(self):
        code, out = self.mesh.ctl("stats", "--count", "2", self.ticker, timeout=30)
        self.assertEqual(code, 0, self.mesh.last_stderr)
        samples = [l for l in out.splitlines() if l.strip()] if isinstance(out, str) else [out]
        self.assertGreaterEqual(len(samples), 1, out)
        self.assertIn("memory", samples[-1])

    def test_websocket_follow_logs_and_stats(self):
        ws = self.alice.websocket()
        try:
            ws.send({"type": "follow", "ref": 1,
                     "message": {"action": "follow-logs", "id": "ticker", "tail": 1}})
            reply = ws.next(lambda f: f.get("type") == "reply" and f.get("ref") == 1)
            self.assertEqual(reply["status"], 200, reply)
            stream = reply["reply"]["body"]["stream"]
            piece = ws.next(lambda f: f.get("type") == "stream" and f.get("stream") == stream)
            self.assertIn("line-", piece["data"])
            ws.send({"type": "follow", "ref": 2, "message": {"action": "follow-stats", "id": "ticker"}})
            reply = ws.next(lambda f: f.get("type") == "reply" and f.get("ref") == 2)
            self.assertEqual(reply["status"], 200, reply)
            sample = ws.next(lambda f: f.get("type") == "stream" and "sample" in f, timeout=20)
            self.assertIn("memory_usage", sample["sample"])
            ws.send({"type": "unfollow", "stream": stream})
            ws.next(lambda f: f.get("type") == "stream-end" and f.get("stream") == stream)
            # A stream opener sent as a plain message is refused with a pointer to follow.
            r = self.alice.send({"action": "follow-logs", "id": "ticker"})
            self.assertEqual(r.status, 400, r)
            self.assertIn("WebSocket", r.error()[1] or "", r)
        finally:
            ws.close()

    def test_another_user_cannot_follow(self):
        ws = self.bob.websocket()
        try:
            for ref, ident in enumerate([self.ticker, "ticker", self.ticker[:12]]):
                ws.send({"type": "follow", "ref": ref,
                         "message": {"action": "follow-logs", "id": ident}})
                reply = ws.next(lambda f: f.get("type") == "reply" and f.get("ref") == ref)
                self.assertEqual(reply["status"], 404, reply)
        finally:
            ws.close()
        # The agent checks again: a bus client that names Bob as the user gets the same answer.
        for action in ("follow-logs", "follow-stats"):
            _, reply, _ = self.open_on_bus(action, {"id": self.ticker}, user=self.bob_id, role="user")
            self.assertEqual(reply["code"], 404, reply)
            self.assertNotIn("alice", str(reply))

    def test_slow_reader_is_held_to_one_window(self):
        window = 16384
        stream, reply, early = self.open_on_bus("follow-logs",
                                                {"id": self.flood, "tail": 0, "credit": window})
        self.assertEqual(reply["code"], 200, reply)
        agent, broker = self.mesh.pid("agent-host1"), self.mesh.pid("broker")
        got, end = self.pieces(stream, 2.0, early)
        before = (rss_kb(agent), rss_kb(broker))
        more, end = self.pieces(stream, 5.0)
        after = (rss_kb(agent), rss_kb(broker))
        self.assertIsNone(end)
        received = sum(len(p.get("data", "")) for p in got + more)
        # Meanwhile the container printed far more than that (dockerd kept it in its log file).
        status, printed = self.mesh.docker(1, "GET", "/containers/%s/logs?stdout=1&stderr=1" % self.flood)
        self.assertEqual(status, 200)
        self.assertGreater(len(printed), 1024 * 1024)
        # One window plus at most one piece (16 KiB) may be in flight; the container printed
        # several MB meanwhile.
        self.assertLessEqual(received, window + 16384 + 1024, received)
        self.assertGreater(received, 0)
        self.assertLess(after[0] - before[0], 4096, "agent RSS grew %d -> %d kB" % (before[0], after[0]))
        self.assertLess(after[1] - before[1], 4096, "broker RSS grew %d -> %d kB" % (before[1], after[1]))
        sys.stderr.write("\nslow reader: %d bytes in 7 s with a %d-byte window (container log %d bytes); RSS agent %d -> %d kB, "
                         "broker %d -> %d kB\n" % (received, window, len(printed), before[0], after[0], before[1], after[1]))
        # Credit resumes it, and the new grant bounds it again; then a cancel ends it.
        self.renew(stream, 32768)
        resumed, _ = self.pieces(stream, 3.0)
        more = sum(len(p.get("data", "")) for p in resumed)
        self.assertGreater(more, 0)
        self.assertLessEqual(more, 32768 + window + 16384 + 1024)
        self.bus.publish("req/host/%s/" % self.h1,
                         self.bus.envelope("stream-cancel", {"stream": stream}))
        _, end = self.pieces(stream, 10.0)
        self.assertIsNotNone(end)
        self.assertEqual(end["reason"], "cancelled", end)

    def test_stream_ends_when_its_reader_goes_away(self):
        stream, reply, early = self.open_on_bus("follow-stats", {"id": self.ticker})
        self.assertEqual(reply["code"], 200, reply)
        # No stream-credit at all from here: the agent's 10 s lease runs out.
        end = None
        deadline = time.monotonic() + 20
        while end is None and time.monotonic() < deadline:
            m = self.bus.receive(0.5)
            if m and m[1].get("action") == "stream-end" and m[1]["body"]["stream"] == stream:
                end = m[1]["body"]
        self.assertIsNotNone(end, "no stream-end within 20 s")
        self.assertEqual(end["reason"], "lease expired", end)


if __name__ == "__main__":
    unittest.main()
