"""Exec sessions on a real two-host mesh (docs/streams.md, "Exec"): host1's agent runs with
--allow-exec, host2's without (the default). Through the bridge's WebSocket, Alice runs a shell
in her container on host1 and sees what she types run; Bob cannot open a terminal to Alice's
container; host2 refuses exec. `dockmeshctl exec` runs a command and passes stdin with -i. The
broker's audit log holds each session's start (who, container) and end."""

import json
import subprocess
import time
import unittest

from agent_bus import restart_agent
from bridgelib import create_message, two_users
from meshlib import Mesh, wait_for



class Exec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=2).up()
        cls.h1, cls.h2 = cls.mesh.fqdn(1), cls.mesh.fqdn(2)
        restart_agent(cls.mesh, 1, ["--allow-exec"])
        cls.admin, cls.alice, cls.bob, cls.alice_id, _ = two_users(cls.mesh)
        # The restarted agent answers again (a create on it goes through) before the tests run.
        cls.box1 = wait_for(lambda: cls.create(cls.h1, "box1"), timeout=30, interval=0.5,
                            message="a create on the restarted host1")
        cls.box2 = cls.create(cls.h2, "box2")

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()

    @classmethod
    def create(cls, host, name):
        r = cls.alice.send(create_message(host, name, ["sleep", "600"]))
        return r.json["body"]["id"] if r.status == 201 else None

    def open_exec(self, ws, ref, ident, cmd):
        ws.send({"type": "follow", "ref": ref,
                 "message": {"action": "exec-start", "id": ident, "cmd": cmd, "tty": True,
                             "cols": 100, "rows": 30}})
        return ws.next(lambda f: f.get("type") == "reply" and f.get("ref") == ref)

    def test_terminal_runs_what_is_typed(self):
        ws = self.alice.websocket()
        try:
            reply = self.open_exec(ws, 1, "box1", ["sh"])
            self.assertEqual(reply["status"], 200, reply)
            stream = reply["reply"]["body"]["stream"]
            ws.send({"type": "resize", "stream": stream, "cols": 120, "rows": 40})
            ws.send({"type": "input", "stream": stream, "data": "echo hello-$((6*7))\n"})
            seen = ""
            deadline = time.monotonic() + 15
            while "hello-42" not in seen and time.monotonic() < deadline:
                f = ws.next(lambda f: f.get("stream") == stream, timeout=15)
                seen += f.get("data", "")
            self.assertIn("hello-42", seen)
            ws.send({"type": "input", "stream": stream, "data": "exit 3\n"})
            end = ws.next(lambda f: f.get("type") == "stream-end" and f.get("stream") == stream)
            self.assertEqual(end["code"], 200, end)
            self.assertEqual(end["exit_code"], 3, end)
        finally:
            ws.close()
        # The audit log has the session's start and end, with Alice's id and the container.
        def session_entries():
            code, out = self.mesh.ctl("audit", "--limit", "100")
            self.assertEqual(code, 0, self.mesh.last_stderr)
            entries = [e for e in out["entries"] if e.get("request_id") == stream]
            return entries if len(entries) == 2 else None
        entries = wait_for(session_entries, timeout=10, interval=0.2, message="both audit entries")
        actions = sorted(e["action"] for e in entries)
        self.assertEqual(actions, ["exec-end", "exec-start"], entries)
        for e in entries:
            self.assertEqual(e["user"], self.alice_id)
            self.assertEqual(e["target"], self.box1)

    def test_another_user_cannot_open_a_terminal(self):
        ws = self.bob.websocket()
        try:
            for ref, ident in enumerate([self.box1, "box1"]):
                reply = self.open_exec(ws, ref, ident, ["sh"])
                self.assertEqual(reply["status"], 404, reply)
        finally:
            ws.close()

    def test_a_host_with_exec_disabled_refuses(self):
        ws = self.alice.websocket()
        try:
            reply = self.open_exec(ws, 1, "box2", ["sh"])
            self.assertEqual(reply["status"], 403, reply)
            self.assertIn("--allow-exec", json.dumps(reply))
        finally:
            ws.close()
        code, _ = self.mesh.ctl("exec", self.box2, "true")
        self.assertEqual(code, 1)
        self.assertIn("disabled", self.mesh.last_stderr)

    def test_cli_exec_with_and_without_stdin(self):
        code, out = self.mesh.ctl("exec", self.box1, "sh", "-c", "echo cli-$((2+3))")
        self.assertEqual(code, 0, self.mesh.last_stderr)
        self.assertIn("cli-5", out if isinstance(out, str) else json.dumps(out))
        r = subprocess.run(self.mesh.ctl_argv("exec", "-i", self.box1, "cat"), input="piped-line\n",
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("piped-line", r.stdout)
        code, _ = self.mesh.ctl("exec", self.box1, "sh", "-c", "exit 4")
        self.assertEqual(code, 1)
        self.assertIn("exited with 4", self.mesh.last_stderr)


if __name__ == "__main__":
    unittest.main()
