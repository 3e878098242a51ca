"""The bridge's authentication against a real mesh: login, wrong passwords, tampered and expired
session tokens, API tokens, password changes, user removal, failed-login rate limits, and the
`user` subcommand refusing a database the running bridge holds."""

import os
import subprocess
import time
import unittest

from bridgelib import Bridge, admin_password, b64url, bridge_key, jwt_claims, sign_jwt
from meshlib import BUILD_DIR, Mesh

BRIDGE_BIN = os.path.join(BUILD_DIR, "bin", "dockmesh-bridge")


class BridgeAuth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1).up()
        cls.admin = Bridge.admin(cls.mesh)
        cls.alice = cls.admin.make_user("alice")

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()

    def test_admin_password_file_is_private_and_logs_in(self):
        st = os.stat(self.mesh.path("admin.password"))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        r = self.admin.get("/api/v1/whoami")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["user"], r.json["role"]), ("admin", "admin"))
        self.assertRegex(r.json["id"], "^u[0-9a-f]{32}$")  # the immutable user id

    def test_login_gives_a_short_lived_signed_token(self):
        r = Bridge(self.mesh).post("/api/v1/login", {"username": "alice", "password": "alice-password-1"})
        self.assertEqual(r.status, 200, r)
        claims = jwt_claims(r.json["token"])
        self.assertEqual(claims["sub"], "alice")
        self.assertEqual(r.json["role"], "user")
        self.assertLessEqual(claims["exp"] - time.time(), 900 + 5)
        self.assertGreater(claims["exp"] - time.time(), 60)

    def test_wrong_password_and_unknown_user_get_the_same_401(self):
        b = Bridge(self.mesh)
        wrong = b.post("/api/v1/login", {"username": "alice", "password": "not-her-password"})
        nobody = b.post("/api/v1/login", {"username": "nobody", "password": "not-her-password"})
        self.assertEqual(wrong.status, 401, wrong)
        self.assertEqual(nobody.status, 401, nobody)
        self.assertEqual(wrong.error(), ("unauthorized", "wrong user name or password"))
        self.assertEqual(nobody.error(), wrong.error())
        bad = b.post("/api/v1/login", {"username": "alice"})
        self.assertEqual(bad.status, 400, bad)
        junk = b.request("POST", "/api/v1/login", raw=b"{not json")
        self.assertEqual(junk.status, 400, junk)
        self.assertEqual(junk.error()[0], "malformed")

    def test_everything_but_login_and_the_ui_needs_a_token(self):
        anon = Bridge(self.mesh)
        for path in ("/", "/js/main.js", "/js/views/containers.js", "/app.css"):
            self.assertEqual(anon.get(path).status, 200, path)
        for method, path in (("GET", "/api/v1/hosts"), ("GET", "/api/v1/containers"),
                             ("POST", "/api/v1/messages"), ("GET", "/api/v1/jobs/x"),
                             ("POST", "/api/v1/tokens"), ("GET", "/api/v1/users")):
            r = anon.request(method, path, body={})
            self.assertEqual(r.status, 401, (method, path, r))
            self.assertEqual(r.header("WWW-Authenticate"), "Bearer")
            self.assertEqual(r.error()[0], "unauthorized")
        self.assertEqual(anon.get("/api/v1/nothing", token=self.alice.token).status, 404)
        self.assertEqual(anon.request("PATCH", "/api/v1/hosts", token=self.alice.token).status, 405)

    def test_tampered_tokens_are_refused(self):
        head, body, sig = self.alice.token.split(".")
        claims = jwt_claims(self.alice.token)
        claims["sub"] = "admin"
        forged = head + "." + b64url(__import__("json").dumps(claims).encode()) + "." + sig
        r = self.alice.get("/api/v1/whoami", token=forged)
        self.assertEqual(r.status, 401, r)
        self.assertIn("signature", r.error()[1])
        none = b64url(b'{"alg":"none","typ":"JWT"}') + "." + body + "."
        r = self.alice.get("/api/v1/whoami", token=none)
        self.assertEqual(r.status, 401, r)
        self.assertIn("HS256", r.error()[1])
        flipped = self.alice.token[:-2] + ("AA" if not self.alice.token.endswith("AA") else "BB")
        self.assertEqual(self.alice.get("/api/v1/whoami", token=flipped).status, 401)

    def test_expired_tokens_are_refused(self):
        key = bridge_key(self.mesh)
        claims = jwt_claims(self.alice.token)
        claims["exp"] = int(time.time()) - 1
        r = self.alice.get("/api/v1/whoami", token=sign_jwt(key, claims))
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.error(), ("unauthorized", "token expired"))
        # The same claims with a future expiry pass: the refusal was the expiry, not the key.
        claims["exp"] = int(time.time()) + 60
        self.assertEqual(self.alice.get("/api/v1/whoami", token=sign_jwt(key, claims)).status, 200)

    def test_api_tokens_work_until_revoked(self):
        r = self.alice.post("/api/v1/tokens", {"name": "ci", "ttl_seconds": 3600})
        self.assertEqual(r.status, 201, r)
        token, token_id = r.json["token"], r.json["id"]
        who = self.alice.get("/api/v1/whoami", token=token)
        self.assertEqual(who.json, {"user": "alice", "id": self.alice.get("/api/v1/whoami").json["id"],
                                    "role": "user", "token_id": token_id})
        listed = self.alice.get("/api/v1/tokens")
        self.assertIn(token_id, [t["id"] for t in listed.json["tokens"]])
        self.assertNotIn("token", listed.json["tokens"][0])
        bob = self.admin.make_user("bob-tokens")
        self.assertEqual(bob.delete("/api/v1/tokens/" + token_id).status, 404)
        self.assertEqual(self.alice.delete("/api/v1/tokens/" + token_id).status, 200)
        r = self.alice.get("/api/v1/whoami", token=token)
        self.assertEqual(r.status, 401, r)

    def test_password_change_ends_old_sessions(self):
        carol = self.admin.make_user("carol")
        old = carol.token
        r = carol.request("PUT", "/api/v1/users/carol/password", body={"password": "carol-new-pass"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(carol.get("/api/v1/whoami", token=old).status, 401)
        carol.login("carol", "carol-new-pass")
        self.assertEqual(carol.get("/api/v1/whoami").status, 200)
        # Users may not change each other's passwords or manage users.
        r = carol.request("PUT", "/api/v1/users/alice/password", body={"password": "x" * 10})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(carol.post("/api/v1/users", {"name": "eve"}).status, 403)

    def test_removed_user_loses_sessions_and_tokens(self):
        dave = self.admin.make_user("dave")
        api_token = dave.post("/api/v1/tokens", {}).json["token"]
        self.assertEqual(self.admin.delete("/api/v1/users/dave").status, 200)
        self.assertEqual(dave.get("/api/v1/whoami").status, 401)
        self.assertEqual(dave.get("/api/v1/whoami", token=api_token).status, 401)

    def test_failed_logins_are_rate_limited_per_user(self):
        self.admin.make_user("frank")
        b = Bridge(self.mesh)
        codes = [b.post("/api/v1/login", {"username": "frank", "password": "wrong-wrong"}).status
                 for _ in range(5)]
        self.assertEqual(codes, [401] * 5)
        r = b.post("/api/v1/login", {"username": "frank", "password": "frank-password-1"})
        self.assertEqual(r.status, 429, r)  # even the right password waits
        self.assertGreater(int(r.header("Retry-After")), 0)
        self.assertEqual(r.error()[0], "rate_limited")
        # Other users are not affected.
        ok = b.post("/api/v1/login", {"username": "alice", "password": "alice-password-1"})
        self.assertEqual(ok.status, 200, ok)

    def test_user_subcommand_refuses_the_running_bridges_database(self):
        r = subprocess.run([BRIDGE_BIN, "user", "list", "--data-dir", self.mesh.path("bridge")],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("in use", r.stderr)


class BridgeAddressRateLimit(unittest.TestCase):
    """In a mesh of its own: it locks 127.0.0.1 out of logging in for a minute."""

    def test_failed_logins_are_rate_limited_per_address(self):
        with Mesh(hosts=1) as mesh:
            admin = Bridge.admin(mesh)
            b = Bridge(mesh)
            for i in range(20):
                r = b.post("/api/v1/login", {"username": "guess%d" % i, "password": "wrong-wrong"})
                self.assertEqual(r.status, 401, r)
            r = b.post("/api/v1/login", {"username": "admin",
                                         "password": admin_password(mesh)})
            self.assertEqual(r.status, 429, r)
            # Sessions already issued keep working.
            self.assertEqual(admin.get("/api/v1/whoami").status, 200)


class BridgeUserCommand(unittest.TestCase):
    def test_user_add_list_passwd_remove_on_a_stopped_bridge(self):
        import tempfile
        with tempfile.TemporaryDirectory(prefix="dmu") as d:
            def run(*args):
                return subprocess.run([BRIDGE_BIN, "user"] + list(args) + ["--data-dir", d],
                                      capture_output=True, text=True, timeout=60)
            r = run("add", "gina", "--role", "admin")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("password: ", r.stdout)
            self.assertEqual(run("add", "gina").returncode, 1)
            self.assertEqual(run("list").stdout, "gina\tadmin\n")
            self.assertEqual(run("passwd", "gina").returncode, 0)
            self.assertEqual(run("remove", "gina").returncode, 0)
            self.assertEqual(run("remove", "gina").returncode, 1)
            self.assertEqual(run("bogus").returncode, 2)


if __name__ == "__main__":
    unittest.main()
