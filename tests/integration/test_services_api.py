"""Projects and services through the real parts (dockerd, broker with RocksDB, agent, bridge,
CURVE): create, list, get by id or project/name, update, scale and delete over the bridge's REST
API and dockmeshctl; names unique per user and per project; another user's project or service
answers like a missing one; bad specs get a 400 naming the field; records survive a broker
restart. See docs/services.md."""

import json
import os
import unittest

import jsonschema

from agent_bus import start_process, stop_process
from bridgelib import Bridge
from meshlib import SOURCE_DIR, Mesh, wait_for

IMAGE = "local/busybox:latest"


def check_schema(body, stem):
    with open(os.path.join(SOURCE_DIR, "schemas", stem + ".json"), encoding="utf-8") as f:
        jsonschema.validate(body, json.load(f))


class ServicesApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=1).up()
        cls.admin = Bridge.admin(cls.mesh)
        cls.alice = cls.admin.make_user("alice")
        cls.bob = cls.admin.make_user("bob")
        cls.alice_id = cls.alice.get("/api/v1/whoami").json["id"]

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()

    def test_projects_and_services(self):
        a, b = self.alice, self.bob
        r = a.post("/api/v1/projects", {"name": "shop"})
        self.assertEqual(r.status, 201, r)
        project = r.json
        check_schema(project, "project-create.reply")
        self.assertEqual(project["owner"], self.alice_id)
        self.assertEqual(a.post("/api/v1/projects", {"name": "shop"}).status, 409)
        self.assertEqual(b.post("/api/v1/projects", {"name": "shop"}).status, 201)  # bob's own
        r = a.post("/api/v1/projects", {"name": "Bad Name"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual([p["name"] for p in a.get("/api/v1/projects").json["projects"]], ["shop"])

        spec = {"image": IMAGE, "cmd": ["sleep", "600"], "replicas": 2}
        r = a.post("/api/v1/services", {"project": "shop", "name": "web", "spec": spec})
        self.assertEqual(r.status, 201, r)
        svc = r.json
        check_schema(svc, "service-create.reply")
        self.assertEqual(svc["spec"]["replicas"], 2)
        self.assertEqual(svc["spec"]["update"]["batch_size"], 1)  # defaults filled in
        r = a.post("/api/v1/services", {"project": "shop", "name": "web", "spec": spec})
        self.assertEqual(r.status, 409, r)
        r = a.post("/api/v1/services", {"project": "shop", "name": "api",
                                        "spec": {"image": IMAGE, "replicas": "two"}})
        self.assertEqual(r.status, 400, r)
        self.assertIn("spec.replicas", r.error()[1])
        # Bob sees nothing of alice's, and cannot add to her project by id.
        self.assertEqual(b.get("/api/v1/services/" + svc["id"]).status, 404)
        r = b.post("/api/v1/services", {"project": project["id"], "name": "x", "spec": spec})
        self.assertEqual(r.status, 404, r)
        self.assertEqual(b.get("/api/v1/services").json["services"], [])
        # The bridge sets the user itself: a forged one in the body changes nothing.
        r = b.post("/api/v1/projects", {"name": "evil", "user": self.alice_id})
        self.assertEqual(r.status, 201, r)
        self.assertNotEqual(r.json["owner"], self.alice_id)

        r = a.post("/api/v1/services/%s/scale" % svc["id"], {"replicas": 4})
        self.assertEqual((r.status, r.json["spec"]["replicas"], r.json["generation"]), (200, 4, 1))
        r = a.request("PATCH", "/api/v1/services/" + svc["id"], {"cmd": ["sleep", "700"]})
        self.assertEqual((r.status, r.json["generation"]), (200, 2), r)
        listed = a.get("/api/v1/services?project=shop").json
        check_schema(listed, "service-list.reply")
        self.assertEqual(listed["services"][0]["id"], svc["id"])
        check_schema(a.get("/api/v1/projects").json, "project-list.reply")

        # The admin CLI sees alice's service, by id and by project/name for her.
        rc, out = self.mesh.ctl("services", "get", svc["id"])
        self.assertEqual(rc, 0, out)
        self.assertEqual(out["spec"]["cmd"], ["sleep", "700"])
        rc, out = self.mesh.ctl("services", "get", "shop/web", "--for", self.alice_id)
        self.assertEqual((rc, out["id"]), (0, svc["id"]))

        # Records survive a broker restart (RocksDB).
        self.restart_broker()
        r = wait_for(lambda: (lambda x: x if x.status == 200 else None)(
            a.get("/api/v1/services/" + svc["id"])), timeout=20, message="service after restart")
        self.assertEqual(r.json["spec"]["replicas"], 4)

        self.assertEqual(a.delete("/api/v1/projects/shop").status, 409)  # still has a service
        self.assertEqual(b.delete("/api/v1/services/" + svc["id"]).status, 404)
        r = a.delete("/api/v1/services/" + svc["id"])
        self.assertEqual(r.status, 200, r)
        check_schema(r.json, "service-delete.reply")
        self.assertEqual(a.delete("/api/v1/projects/shop").status, 200)
        self.assertEqual(a.get("/api/v1/projects").json["projects"], [])

    def test_cli(self):
        rc, out = self.mesh.ctl("projects", "create", "ops")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out["owner"], "")  # admin-owned
        rc, out = self.mesh.ctl("services", "create", "ops", "cron", "--image", IMAGE,
                                "--replicas", "1", "--spec", json.dumps({"cmd": ["sleep", "60"]}))
        self.assertEqual(rc, 0, out)
        rc, out = self.mesh.ctl("services", "scale", "ops/cron", "3")
        self.assertEqual((rc, out["spec"]["replicas"]), (0, 3))
        rc, out = self.mesh.ctl("services", "scale", "ops/cron", "lots")
        self.assertEqual(rc, 2, out)
        rc, out = self.mesh.ctl("services", "list", "--project", "ops")
        self.assertEqual([s["name"] for s in out["services"]], ["cron"])
        rc, out = self.mesh.ctl("services", "delete", "ops/cron")
        self.assertEqual(rc, 0, out)
        rc, out = self.mesh.ctl("services", "get", "ops/cron")
        self.assertEqual(rc, 1, out)

    def restart_broker(self):
        argv = stop_process(self.mesh, "broker")
        start_process(self.mesh, "broker", argv)


if __name__ == "__main__":
    unittest.main()
