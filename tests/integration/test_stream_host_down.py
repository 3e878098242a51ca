"""A reader is told when the agent dies during a quiet stream (docs/streams.md, "When the agent
dies"): Alice follows the logs of a container that prints nothing; the agent is killed by pid
(SIGKILL: no unregister, no stream-end of its own). The broker marks the host down 3.2 s after
its last heartbeat, and the bridge then ends the stream: the WebSocket gets stream-end with
reason "host down" and code 503 within 8 s of the kill, and `dockmeshctl logs -f` (opened on
the bus beside it) exits non-zero saying "host down" within the same bound. One host, real
dockerd, broker, agent, bridge, CURVE."""

import os
import signal
import subprocess
import threading
import time
import unittest

from bridgelib import create_message, two_users
from meshlib import Mesh

BOUND_S = 8.0  # 3.2 s down-after + 0.1 s tick + up to one 1 s heartbeat period + delivery


class StreamHostDown(unittest.TestCase):
    def test_quiet_follow_ends_with_host_down(self):
        with Mesh(hosts=1) as mesh:
            _, alice, _, _, _ = two_users(mesh)
            # One line at start, then silence: the CLI's --tail 1 shows it once its stream is open.
            r = alice.send(create_message(mesh.fqdn(1), "quiet", ["sh", "-c", "echo ready; sleep 600"]))
            self.assertEqual(r.status, 201, r)
            cli = subprocess.Popen(mesh.ctl_argv("logs", "-f", "--tail", "1", "quiet"),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            watchdog = threading.Timer(60, cli.kill)  # a hung follow fails instead of hanging
            watchdog.start()
            ws = alice.websocket()
            try:
                ws.send({"type": "follow", "ref": 1,
                         "message": {"action": "follow-logs", "id": "quiet", "tail": 0}})
                reply = ws.next(lambda f: f.get("type") == "reply" and f.get("ref") == 1)
                self.assertEqual(reply["status"], 200, reply)
                stream = reply["reply"]["body"]["stream"]
                self.assertEqual(cli.stdout.readline().strip(), "ready")  # the CLI's stream is open
                pid = mesh.pid("agent-host1")
                self.assertIsNotNone(pid)
                os.kill(pid, signal.SIGKILL)
                killed = time.monotonic()
                end = ws.next(lambda f: f.get("type") == "stream-end" and f.get("stream") == stream,
                              timeout=BOUND_S + 7)
                took = time.monotonic() - killed
                print("stream-end %.2f s after the kill: %r" % (took, end))
                self.assertEqual(end.get("reason"), "host down", end)
                self.assertEqual(end.get("code"), 503, end)
                self.assertIn(mesh.fqdn(1), end.get("message", ""))
                self.assertLess(took, BOUND_S)
                rc = cli.wait(timeout=BOUND_S)
                cli_took = time.monotonic() - killed
                err = cli.stderr.read()
                print("dockmeshctl logs -f exited %d %.2f s after the kill: %s" % (rc, cli_took, err.strip()))
                self.assertNotEqual(rc, 0)
                self.assertIn("host down", err)
                self.assertLess(cli_took, BOUND_S)
                # The connection stays usable: a new follow on the dead host is refused, not hung.
                ws.send({"type": "follow", "ref": 2,
                         "message": {"action": "follow-logs", "id": "quiet", "tail": 0}})
                again = ws.next(lambda f: f.get("type") == "reply" and f.get("ref") == 2, timeout=40)
                self.assertNotEqual(again["status"], 200, again)
            finally:
                ws.close()
                watchdog.cancel()
                if cli.poll() is None:
                    cli.kill()
                    cli.wait()
                cli.stdout.close()
                cli.stderr.close()


if __name__ == "__main__":
    unittest.main()
