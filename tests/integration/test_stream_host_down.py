"""A reader is told when the agent dies during a quiet stream (docs/streams.md, "When the agent
dies"): Alice follows the logs of a container that prints nothing; the agent is killed by pid
(SIGKILL: no unregister, no stream-end of its own). The broker marks the host down 3.2 s after
its last heartbeat, and the bridge then ends the stream: the WebSocket gets stream-end with
reason "host down" and code 503 within 8 s of the kill. One host, real dockerd, broker, agent,
bridge, CURVE."""

import os
import signal
import time
import unittest

from bridgelib import create_message, two_users
from meshlib import Mesh

BOUND_S = 8.0  # 3.2 s down-after + 0.1 s tick + up to one 1 s heartbeat period + delivery


class StreamHostDown(unittest.TestCase):
    def test_quiet_follow_ends_with_host_down(self):
        with Mesh(hosts=1) as mesh:
            _, alice, _, _, _ = two_users(mesh)
            r = alice.send(create_message(mesh.fqdn(1), "quiet", ["sleep", "600"]))
            self.assertEqual(r.status, 201, r)
            ws = alice.websocket()
            try:
                ws.send({"type": "follow", "ref": 1,
                         "message": {"action": "follow-logs", "id": "quiet", "tail": 0}})
                reply = ws.next(lambda f: f.get("type") == "reply" and f.get("ref") == 1)
                self.assertEqual(reply["status"], 200, reply)
                stream = reply["reply"]["body"]["stream"]
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
                # The connection stays usable: a new follow on the dead host is refused, not hung.
                ws.send({"type": "follow", "ref": 2,
                         "message": {"action": "follow-logs", "id": "quiet", "tail": 0}})
                again = ws.next(lambda f: f.get("type") == "reply" and f.get("ref") == 2, timeout=40)
                self.assertNotEqual(again["status"], 200, again)
            finally:
                ws.close()


if __name__ == "__main__":
    unittest.main()
