"""Enrollment (the salt-key model) against the real broker: an unknown agent key is pending until
an admin accepts it, or is accepted at once with a one-time join token; a spent or wrong token
leaves it pending; a rejected key stays out. Uses the independent Python client and dockmeshctl."""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_harness import Broker, Key  # noqa: E402
from meshlib import BUILD_DIR, wait_for  # noqa: E402

CTL = os.path.join(BUILD_DIR, "bin", "dockmeshctl")


class BrokerEnrollmentTest(unittest.TestCase):
    def setUp(self):
        self.b = Broker(agents=()).start()
        self.addCleanup(lambda: self.b.__exit__(None, None, None))
        self.admin = self.b.control(self.b.admin)

    def new_agent(self, fqdn):
        key = Key("agent", fqdn)
        return key, self.b.control(key)

    def bus_works(self, key, fqdn):
        # A fresh connection: libzmq does not retry one that failed authentication.
        bus = self.b.bus(key, fqdn)
        bus.ready(10)
        bus.publish("ann/", bus.announcement("register"))
        return wait_for(lambda: self.admin.call("host", {"fqdn": fqdn})[0] == 200, 5,
                        message=fqdn + " in the directory")

    def test_join_token_enrolls_once(self):
        code, tok = self.admin.call("token-create", {"ttl_seconds": 600})
        self.assertEqual(code, 200, tok)
        self.assertGreater(tok["expires"], 0)
        key, ctl = self.new_agent("host7.mesh.test")
        code, body = ctl.call("enroll", {"fqdn": "host7.mesh.test", "token": tok["token"]})
        self.assertEqual(code, 200, body)
        self.assertEqual((body["role"], body["name"], body["state"]), ("agent", "host7.mesh.test", "accepted"))
        self.assertTrue(self.bus_works(key, "host7.mesh.test"))
        # The token is spent: a second agent stays pending.
        key2, ctl2 = self.new_agent("host8.mesh.test")
        code, body = ctl2.call("enroll", {"fqdn": "host8.mesh.test", "token": tok["token"]})
        self.assertEqual(code, 202, body)
        self.assertEqual(body["state"], "pending")

    def test_pending_until_an_admin_accepts(self):
        key, ctl = self.new_agent("host9.mesh.test")
        code, body = ctl.call("enroll", {"fqdn": "host9.mesh.test", "token": "not-a-token"})
        self.assertEqual(code, 202)
        keys = {k["public_key"]: k for k in self.admin.call("keys-list")[1]["keys"]}
        self.assertEqual((keys[key.public]["state"], keys[key.public]["name"]), ("pending", "host9.mesh.test"))
        self.assertEqual(ctl.call("hosts")[0], 403)
        bus = self.b.bus(key, "host9.mesh.test")
        with self.assertRaises(AssertionError):
            bus.ready(2)  # refused by ZAP while pending
        code, body = self.admin.call("keys-accept", {"key": "host9.mesh.test"})
        self.assertEqual(code, 200, body)
        self.assertTrue(self.bus_works(key, "host9.mesh.test"))
        # Enrolling again with an accepted key just confirms it.
        self.assertEqual(ctl.call("enroll", {"fqdn": "host9.mesh.test"})[0], 200)

    def test_rejected_key_stays_out(self):
        key, ctl = self.new_agent("host6.mesh.test")
        self.assertEqual(ctl.call("enroll", {"fqdn": "host6.mesh.test"})[0], 202)
        self.assertEqual(self.admin.call("keys-reject", {"key": key.public})[0], 200)
        # ZAP now refuses the key on the control socket too: a new connection gets no answer.
        self.assertEqual(self.b.control(key).call("enroll", {"fqdn": "host6.mesh.test"}, timeout=1.5),
                         (None, None))

    def test_dockmeshctl_keys_and_tokens(self):
        self.assertTrue(os.path.exists(CTL), "dockmeshctl is not built: " + CTL)
        admin_path = os.path.join(self.b.dir, "admin.key")
        self.b.admin.write(admin_path)

        def ctl(*args):
            r = subprocess.run([CTL, "--broker", "127.0.0.1:%d" % self.b.base, "--broker-key",
                                self.b.server.public, "--key", admin_path, "--timeout", "3000",
                                "--log-level", "error"] + list(args),
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)
        tok = ctl("keys", "token", "create", "--ttl", "60")
        key, agent_ctl = self.new_agent("host5.mesh.test")
        self.assertEqual(agent_ctl.call("enroll", {"fqdn": "host5.mesh.test", "token": tok["token"]})[0], 200)
        listed = ctl("keys", "list")
        names = {k["name"]: k["state"] for k in listed["keys"]}
        self.assertEqual(names["host5.mesh.test"], "accepted")
        ctl("keys", "revoke", "host5.mesh.test")
        names = {k["name"]: k["state"] for k in ctl("keys", "list")["keys"]}
        self.assertEqual(names["host5.mesh.test"], "revoked")


if __name__ == "__main__":
    unittest.main()
