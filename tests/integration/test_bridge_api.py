"""The bridge's REST API against a real two-host mesh (real dockerds, broker, agents): hosts,
messages checked against schemas/ before anything is sent, broadcasts refused, ownership of
containers by full id, id prefix and name (another user's is 404, like a missing one), the container job lifecycle (202 -> job -> 303),
container operations, and image pulls through one job with a result per host."""

import json
import os
import unittest
import urllib.parse

import jsonschema

from bridgelib import Bridge, LocalRegistry
from meshlib import SOURCE_DIR, Mesh, wait_for

IMAGE = "local/busybox:latest"


def schema(stem):
    with open(os.path.join(SOURCE_DIR, "schemas", stem + ".json"), encoding="utf-8") as f:
        return json.load(f)


def sleeper(name, **extra):
    body = {"image": IMAGE, "name": name, "cmd": ["sh", "-c", "echo hello from %s; sleep 3600" % name],
            "network_mode": "none"}
    body.update(extra)
    return body


class BridgeApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=2).up()
        cls.admin = Bridge.admin(cls.mesh)
        cls.alice = cls.admin.make_user("alice")
        cls.bob = cls.admin.make_user("bob")

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()

    def created(self, user, body):
        """Creates a container through the job API; returns its directory record."""
        accepted, final = user.create(body)
        self.assertEqual(final.status, 303, final)
        r = user.get(final.header("Location"))
        self.assertEqual(r.status, 200, r)
        return r.json

    def docker_inspect(self, c):
        i = int(c["host"].split(".")[0][len("host"):])
        return self.mesh.docker(i, "GET", "/containers/%s/json" % c["id"])

    # ------------------------------------------------------------------ directory

    def test_hosts_are_listed_with_their_records(self):
        r = self.alice.get("/api/v1/hosts")
        self.assertEqual(r.status, 200, r)
        hosts = {h["fqdn"]: h for h in r.json["hosts"]}
        self.assertEqual(set(hosts), {self.mesh.fqdn(1), self.mesh.fqdn(2)})
        for h in hosts.values():
            self.assertEqual(h["status"], "up")
            self.assertGreater(h["cpus"], 0)
            self.assertGreater(h["memory_bytes"], 0)
            self.assertTrue(h["docker_version"])
            self.assertIn("last_seen", h)
        r = self.alice.get("/api/v1/hosts?status=down")
        self.assertEqual(r.json["hosts"], [])
        r = self.alice.get("/api/v1/hosts/" + self.mesh.fqdn(2))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.alice.get("/api/v1/hosts/nohost.mesh.test").status, 404)

    def test_a_message_gets_the_agents_reply(self):
        r = self.alice.send({"action": "ping", "host": self.mesh.fqdn(1)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["from"], self.mesh.fqdn(1))
        self.assertTrue(r.json["body"]["pong"])

    # ------------------------------------------------------------------ catalogue

    def test_the_catalogue_is_served_and_replies_match_its_schemas(self):
        r = self.alice.get("/api/v1/catalogue")
        self.assertEqual(r.status, 200, r)
        spec = {m["name"]: m for m in r.json["messages"]}
        self.assertEqual(len([m for m in spec.values() if m["kind"] == "agent-action"]), 21)  # 18 + 3 stream openers
        self.assertTrue(spec["remove-image"]["admin_only"])
        self.assertEqual(spec["create-container"]["target"], "scheduled")
        host = self.mesh.fqdn(1)
        c = self.created(self.alice, sleeper("schemas", host=host))
        for m in ({"action": "ping", "host": host}, {"action": "host-info", "host": host},
                  {"action": "disk-usage", "host": host}, {"action": "list-containers", "host": host},
                  {"action": "list-images", "host": host},
                  {"action": "inspect-image", "host": host, "image": IMAGE},
                  {"action": "inspect-container", "id": c["id"]},
                  {"action": "container-stats", "id": c["id"]},
                  {"action": "container-logs", "id": c["id"]},
                  {"action": "stop-container", "id": c["id"], "timeout": 0},
                  {"action": "start-container", "id": c["id"]},
                  {"action": "restart-container", "id": c["id"], "timeout": 0},
                  {"action": "kill-container", "id": c["id"]},
                  {"action": "remove-container", "id": c["id"], "force": True}):
            r = self.alice.send(m)
            self.assertLess(r.status, 300, (m, r))
            with self.subTest(action=m["action"]):
                jsonschema.validate(r.json["body"], schema(spec[m["action"]]["reply_schema"]))
        # The directory's answers, relayed by the bridge, match the control calls' reply schemas.
        jsonschema.validate(self.alice.get("/api/v1/hosts").json, schema("hosts.reply"))
        jsonschema.validate(self.alice.get("/api/v1/hosts/" + host).json, schema("host.reply"))
        jsonschema.validate(self.alice.get("/api/v1/containers").json, schema("containers.reply"))

    def test_the_schemas_the_catalogue_names_are_served(self):
        # The web console builds its create form from this document.
        r = self.alice.get("/api/v1/schemas/create-container")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, schema("create-container"))
        r = self.alice.get("/api/v1/schemas/no-such-schema")
        self.assertEqual(r.status, 404, r)
        self.assertIn("no-such-schema", r.json["error"]["message"])

    # ------------------------------------------------------------------ validation

    def test_schema_violations_are_400_naming_the_field_and_never_sent(self):
        before = self.mesh.container_ids(1) | self.mesh.container_ids(2)
        watch = self.mesh.watch("req/")
        cases = [
            ({"action": "create-container", "image": 42}, "image"),
            ({"action": "create-container", "image": IMAGE, "env": ["1BAD"]}, "env[0]"),
            ({"action": "stop-container", "id": "x", "timeout": "soon"}, "timeout"),
            ({"action": "create-container", "image": IMAGE, "strategy": "fastest"}, "strategy"),
        ]
        for message, field in cases:
            r = self.alice.send(message)
            self.assertEqual(r.status, 400, (message, r))
            self.assertEqual(r.error()[0], "invalid_argument")
            self.assertIn(field, r.error()[1], (message, r))
        # A privilege-widening field is the create policy's: 403 naming it, before any schema.
        r = self.alice.send({"action": "create-container", "image": IMAGE, "privileged": True})
        self.assertEqual(r.status, 403, r)
        self.assertTrue(r.error()[1].startswith("field 'privileged'"), r)
        r = self.alice.post("/api/v1/containers", {"image": IMAGE, "instances": 0})
        self.assertEqual(r.status, 400, r)
        self.assertTrue(r.error()[1].startswith("instances"), r)
        # A marker request sent afterwards arrives first: nothing before it was published. (The
        # bridge's own stats sampling, container-stats for running containers, may come first.)
        marker = self.alice.send({"action": "ping", "host": self.mesh.fqdn(2)})
        self.assertEqual(marker.status, 200, marker)
        first = watch.next(lambda m: m["envelope"].get("action") != "container-stats", timeout=15)
        self.assertEqual(first["envelope"]["action"], "ping", first)
        self.assertEqual(self.mesh.container_ids(1) | self.mesh.container_ids(2), before)

    def test_unknown_actions_and_broadcasts_are_refused(self):
        r = self.alice.send({"action": "format-disk", "host": self.mesh.fqdn(1)})
        self.assertEqual(r.status, 400, r)
        self.assertIn("format-disk", r.error()[1])
        self.assertEqual(self.alice.send({"action": "register", "host": self.mesh.fqdn(1)}).status, 400)
        for who in (self.alice, self.admin):
            for msg in ({"action": "ping", "all": True}, {"action": "ping", "host": "*"}):
                r = who.send(msg)
                self.assertEqual(r.status, 403, r)
                self.assertIn("broadcast", r.error()[1])
        r = self.alice.send({"action": "remove-image", "host": self.mesh.fqdn(1), "image": IMAGE})
        self.assertEqual(r.status, 403, r)
        r = self.alice.send({"action": "ping"})
        self.assertEqual(r.status, 400, r)
        self.assertIn("host", r.error()[1])
        r = self.alice.request("POST", "/api/v1/messages", raw=b"[1,2")
        self.assertEqual(r.status, 400, r)

    # ------------------------------------------------------------------ ownership

    def test_another_users_container_is_404_by_id_prefix_and_name(self):
        c = self.created(self.alice, sleeper("alice-own"))
        self.assertEqual(c["owner"], self.alice.get("/api/v1/whoami").json["id"])
        refs = {"full id": c["id"], "prefix": c["id"][:12], "name": "alice-own"}
        for how, ref in refs.items():
            for action in ("inspect-container", "stop-container", "remove-container", "container-logs"):
                r = self.bob.send({"action": action, "id": ref})
                self.assertEqual(r.status, 404, (how, action, r))
                self.assertEqual(r.error(), ("not_found", "no container '%s'" % ref))
            r = self.bob.get("/api/v1/containers/" + urllib.parse.quote(ref))
            self.assertEqual(r.status, 404, (how, r))
            r = self.bob.delete("/api/v1/containers/" + urllib.parse.quote(ref) + "?force=1")
            self.assertEqual(r.status, 404, (how, r))
        status, info = self.docker_inspect(c)
        self.assertEqual(status, 200)
        self.assertTrue(info["State"]["Running"])
        self.assertNotIn(c["id"], [x["id"] for x in self.bob.get("/api/v1/containers").json["containers"]])
        # The owner and admins may.
        for who in (self.alice, self.admin):
            r = who.send({"action": "inspect-container", "id": c["id"][:12]})
            self.assertEqual(r.status, 200, r)
        self.assertIn(c["id"], [x["id"] for x in self.admin.get("/api/v1/containers").json["containers"]])
        self.assertEqual(self.bob.send({"action": "inspect-container", "id": "no-such-thing"}).status, 404)

    def test_a_name_resolves_to_the_callers_own_container_first(self):
        mine = self.created(self.alice, sleeper("samename", host=self.mesh.fqdn(1)))
        # Names are unique in the mesh unless asked: bob asks for a per-host name.
        theirs = self.created(self.bob, sleeper("samename", host=self.mesh.fqdn(2), per_host_names=True))
        r = self.bob.send({"action": "inspect-container", "id": "samename"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["from"], self.mesh.fqdn(2))
        self.assertTrue(r.json["body"]["Id"].startswith(theirs["id"]) or r.json["body"].get("id") == theirs["id"], r)
        r = self.alice.get("/api/v1/containers/samename")
        self.assertEqual(r.json["id"], mine["id"])

    # ------------------------------------------------------------------ jobs and operations

    def test_container_job_lifecycle(self):
        r = self.alice.post("/api/v1/containers", sleeper("lifecycle"))
        self.assertEqual(r.status, 202, r)
        job_id = r.json["id"]
        self.assertEqual(r.header("Location"), "/api/v1/jobs/" + job_id)
        self.assertEqual(r.json["state"], "running")
        self.assertEqual(self.bob.get("/api/v1/jobs/" + job_id).status, 404)  # not his
        final = self.alice.wait_job(job_id)
        self.assertEqual(final.status, 303, final)
        self.assertEqual(final.json["state"], "done")
        location = final.header("Location")
        self.assertTrue(location.startswith("/api/v1/containers/"), location)
        c = self.alice.get(location).json
        alice_id = self.alice.get("/api/v1/whoami").json["id"]  # owners are ids, not names
        self.assertEqual((c["name"], c["owner"], c["image"]), ("lifecycle", alice_id, IMAGE))
        status, info = self.docker_inspect(c)
        self.assertEqual(info["Config"]["Labels"]["dockmesh.owner"], alice_id)
        self.assertTrue(info["State"]["Running"])
        # Operations on it, by name.
        for action in ("stop-container", "start-container", "restart-container"):
            r = self.alice.send({"action": action, "id": "lifecycle"})
            self.assertLess(r.status, 300, (action, r))
        wait_for(lambda: self.docker_inspect(c)[1]["State"]["Running"], message="running again")
        logs = wait_for(lambda: (lambda r: r.status == 200 and "hello from lifecycle" in r.text and r)(
            self.alice.send({"action": "container-logs", "id": "lifecycle"})), message="logs")
        self.assertEqual(logs.json["from"], c["host"])
        r = self.alice.delete("/api/v1/containers/%s?force=1" % c["id"])
        self.assertLess(r.status, 300, r)
        self.assertEqual(self.docker_inspect(c)[0], 404)
        wait_for(lambda: self.alice.get("/api/v1/containers/" + c["id"]).status == 404,
                 message="container gone from the directory")

    def test_a_failed_create_is_a_failed_job_with_the_reason(self):
        r, final = self.alice.create({"image": "local/no-such-image:latest", "network_mode": "none"})
        self.assertEqual(final.status, 200, final)
        self.assertEqual(final.json["state"], "failed")
        self.assertGreaterEqual(final.json["status"], 400)
        self.assertTrue(final.json["error"]["message"], final)

    def test_instances_spread_over_hosts(self):
        r, final = self.alice.create(sleeper("pair", instances=2, strategy="spread"))
        self.assertEqual(final.status, 200, final)  # several containers: no single Location
        self.assertEqual(final.json["state"], "done")
        ids = final.json["progress"]["containers"]
        self.assertEqual(len(ids), 2)
        hosts = {self.alice.get("/api/v1/containers/" + i).json["host"] for i in ids}
        self.assertEqual(hosts, {self.mesh.fqdn(1), self.mesh.fqdn(2)})

    # ------------------------------------------------------------------ images

    def test_pull_one_job_with_a_result_per_host(self):
        registry = LocalRegistry(self.mesh)
        try:
            ref = registry.push_from(self.mesh, 1, IMAGE, "pulltest")
            hosts = [self.mesh.fqdn(1), self.mesh.fqdn(2), "nohost.mesh.test"]
            r = self.alice.post("/api/v1/images/pull", {"image": ref, "hosts": hosts})
            self.assertEqual(r.status, 202, r)
            self.assertEqual(r.header("Location"), "/api/v1/jobs/" + r.json["id"])
            final = self.alice.wait_job(r.json["id"], timeout=180)
            self.assertEqual(final.status, 200, final)
            per_host = final.json["progress"]["hosts"]
            self.assertEqual(per_host[self.mesh.fqdn(1)]["state"], "done", per_host)
            self.assertEqual(per_host[self.mesh.fqdn(2)]["state"], "done", per_host)
            self.assertEqual(per_host["nohost.mesh.test"]["state"], "failed")
            self.assertIn("not in the directory", per_host["nohost.mesh.test"]["message"])
            self.assertEqual(final.json["state"], "failed")  # not every host got it
            for i in (1, 2):
                status, _ = self.mesh.docker(i, "GET", "/images/%s/json" % ref)
                self.assertEqual(status, 200, (i, ref))
            listed = self.alice.get("/api/v1/images?host=" + self.mesh.fqdn(2))
            self.assertEqual(listed.status, 200, listed)
            self.assertIn(ref, listed.text)
            bad = self.alice.post("/api/v1/images/pull", {"image": ref, "hosts": []})
            self.assertEqual(bad.status, 400, bad)
            self.assertEqual(self.alice.get("/api/v1/images").status, 400)
        finally:
            registry.close()


if __name__ == "__main__":
    unittest.main()
