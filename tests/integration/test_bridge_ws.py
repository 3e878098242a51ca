"""The bridge's WebSocket (/api/v1/ws) against a real mesh: authentication (first frame or header),
messages and their replies, job progress, live events of the caller's own containers only (admins
see all), host events for everyone."""

import unittest

from bridgelib import Bridge, WebSocket
from meshlib import Mesh

IMAGE = "local/busybox:latest"


def about(frame, container_id):
    """Whether a frame is an event about this container."""
    if frame.get("type") != "event":
        return False
    body = frame["event"].get("body") or {}
    return body.get("id") == container_id


class BridgeWebSocket(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=2).up()
        cls.admin = Bridge.admin(cls.mesh)
        cls.alice = cls.admin.make_user("alice")
        cls.bob = cls.admin.make_user("bob")

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()

    def test_frames_before_auth_are_refused_and_a_bad_token_closes(self):
        ws = self.alice.websocket(authenticate=False)
        try:
            ws.send({"type": "message", "ref": 1, "message": {"action": "ping", "host": self.mesh.fqdn(1)}})
            f = ws.next()
            self.assertEqual(f["error"]["code"], "unauthorized", f)
            ws.send({"type": "auth", "token": "not-a-token"})
            with self.assertRaises(AssertionError):
                ws.next(timeout=10)
            self.assertEqual(ws.closed[0], 1008, ws.closed)  # policy violation
        finally:
            ws.close()

    def test_header_authentication_and_messages(self):
        ws = WebSocket(self.alice.host, self.alice.port, "/api/v1/ws",
                       headers={"Authorization": "Bearer " + self.alice.token})
        try:
            hello = ws.next(lambda f: f.get("type") == "hello")
            self.assertEqual((hello["user"], hello["role"]), ("alice", "user"))
            ws.send({"type": "message", "ref": "p1", "message": {"action": "ping", "host": self.mesh.fqdn(2)}})
            reply = ws.next(lambda f: f.get("type") == "reply")
            self.assertEqual(reply["ref"], "p1")
            self.assertEqual(reply["status"], 200, reply)
            self.assertEqual(reply["reply"]["from"], self.mesh.fqdn(2))
            ws.send({"type": "message", "ref": "b1", "message": {"action": "ping", "all": True}})
            reply = ws.next(lambda f: f.get("type") == "reply")
            self.assertEqual((reply["ref"], reply["status"]), ("b1", 403), reply)
            ws.send({"type": "message", "ref": "s1", "message": {"action": "create-container", "image": 5}})
            reply = ws.next(lambda f: f.get("type") == "reply")
            self.assertEqual(reply["status"], 400, reply)
            self.assertIn("image", reply["reply"]["error"]["message"])
        finally:
            ws.close()

    def test_events_of_own_containers_only_and_job_progress(self):
        alice_ws, bob_ws, admin_ws = self.alice.websocket(), self.bob.websocket(), self.admin.websocket()
        try:
            r, final = self.alice.create({"image": IMAGE, "name": "ws-alice", "network_mode": "none",
                                          "cmd": ["sleep", "3600"], "host": self.mesh.fqdn(1)})
            self.assertEqual(final.status, 303, final)
            cid = final.json["progress"]["containers"][0]
            alice_seen = []
            job = alice_ws.next(lambda f: alice_seen.append(f) or (
                f.get("type") == "job" and f["job"]["id"] == r.json["id"] and f["job"]["state"] == "done"),
                timeout=30)
            self.assertEqual(job["job"]["location"], "/api/v1/containers/" + cid)
            if not [f for f in alice_seen if about(f, cid)]:
                alice_ws.next(lambda f: about(f, cid), timeout=30)
            admin_ws.next(lambda f: about(f, cid), timeout=30)
            # Bob then makes his own container: by the time its events reach him, Alice's (which
            # came first on the same ordered stream) would have too, had they leaked.
            _, final_b = self.bob.create({"image": IMAGE, "name": "ws-bob", "network_mode": "none",
                                          "cmd": ["sleep", "3600"], "host": self.mesh.fqdn(1)})
            bob_cid = final_b.json["progress"]["containers"][0]
            seen = []
            bob_ws.next(lambda f: seen.append(f) or about(f, bob_cid), timeout=30)
            self.assertFalse([f for f in seen if about(f, cid)], "bob saw alice's container events")
            bob_id = self.bob.get("/api/v1/whoami").json["id"]  # jobs belong to the user id
            self.assertFalse([f for f in seen if f.get("type") == "job" and f["job"]["user"] != bob_id],
                             "bob saw alice's job")
            # Host events reach everyone (host1's container count changed).
            if not [f for f in seen if f.get("topic") == "dir/" and f["event"]["action"].startswith("host")]:
                bob_ws.next(lambda f: f.get("topic") == "dir/" and f["event"]["action"].startswith("host"),
                            timeout=15)
        finally:
            for ws in (alice_ws, bob_ws, admin_ws):
                ws.close()


if __name__ == "__main__":
    unittest.main()
