"""The bridge's Docker-compatible endpoint (docs/docker-api.md) driven by the stock tools against a
real two-host mesh: Debian's docker CLI (/usr/bin/docker, DOCKER_HOST=tcp://..., a DOCKER_CONFIG
whose HttpHeaders carry the user's bearer token) and docker-py (python3-docker). run -d (placed by
the scheduler and by the mesh.host label), ps, logs -f, inspect, stop, rm, images, pull from a
local registry, events, another user's ps and stop, run --privileged refused, and an unsupported
command answered 501. Placement by the mesh.constraints label is checked against host labels."""

import http.client
import json
import os
import subprocess
import tempfile
import time
import unittest

import re

import docker

from bridgelib import Bridge, LocalRegistry, free_port
from meshlib import Mesh, wait_for

IMAGE = "local/busybox:latest"
DOCKER = "/usr/bin/docker"  # Debian's docker.io CLI, not whatever else is on PATH


class DockerUser:
    """The docker CLI as one mesh user: its own DOCKER_CONFIG with the bearer token."""

    def __init__(self, port, token):
        self.port = port
        self.token = token
        self.config_dir = tempfile.mkdtemp(prefix="dmcfg")
        headers = {"HttpHeaders": {"Authorization": "Bearer " + token}} if token else {}
        with open(os.path.join(self.config_dir, "config.json"), "w") as f:
            json.dump(headers, f)
        self.env = dict(os.environ, DOCKER_HOST="tcp://127.0.0.1:%d" % port,
                        DOCKER_CONFIG=self.config_dir)

    def run(self, *args, timeout=60, check=True):
        r = subprocess.run([DOCKER] + list(args), env=self.env, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("docker %s failed (rc %d): %s" % (" ".join(args), r.returncode,
                                                                  r.stderr.strip()))
        return r

    def names(self, *ps_args):
        out = self.run("ps", "--format", "{{.Names}}", *ps_args).stdout
        return set(out.split())

    def popen(self, *args):
        return subprocess.Popen([DOCKER] + list(args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


class DockerEndpoint(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.mesh = Mesh(hosts=2, labels={1: {"zone": "a"}, 2: {"zone": "b"}},
                        docker_api_port=cls.port).up()
        admin = Bridge.admin(cls.mesh)
        cls.alice_api = admin.make_user("alice")
        cls.bob_api = admin.make_user("bob")
        cls.alice = DockerUser(cls.port, cls.alice_api.token)
        cls.bob = DockerUser(cls.port, cls.bob_api.token)

    @classmethod
    def tearDownClass(cls):
        cls.mesh.down()

    def raw(self, method, path, token=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Authorization": "Bearer " + token} if token else {}
            conn.request(method, path, headers=headers)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def host_of(self, container_id):
        for i in (1, 2):
            status, _ = self.mesh.docker(i, "GET", "/containers/%s/json" % container_id)
            if status == 200:
                return i
        return None

    def test_1_cli_lifecycle_logs_and_isolation(self):
        a, b = self.alice, self.bob
        self.assertIn("1.41", a.run("version", "--format", "{{.Server.APIVersion}}").stdout)
        events = a.popen("events", "--format", "{{.Action}} {{.Actor.Attributes.name}}")
        bob_events = b.popen("events", "--format", "{{.Actor.Attributes.name}}")
        try:
            web = a.run("run", "-d", "--name", "web", "--network", "none",
                        "--label", "mesh.host=host2.mesh.test", IMAGE, "sh", "-c",
                        "echo one; sleep 1; echo two >&2; sleep 1; echo three").stdout.strip()
            self.assertEqual(self.host_of(web), 2, "mesh.host=host2.mesh.test places it on host2")
            idle = a.run("run", "-d", "--name", "idle", "--network", "none", IMAGE,
                         "sleep", "300").stdout.strip()
            self.assertIn(self.host_of(idle), (1, 2))
            for zone, host in (("a", 1), ("b", 2), ("a", 1)):
                zoned = a.run("run", "-d", "--network", "none", "--label",
                              "mesh.constraints=zone==" + zone, IMAGE, "true").stdout.strip()
                self.assertEqual(self.host_of(zoned), host, "mesh.constraints=zone==" + zone)
                a.run("rm", "-f", zoned)
            self.assertTrue({"web", "idle"} <= a.names("-a"))
            self.assertEqual(a.names("--filter", "label=mesh.host=host2.mesh.test", "-a") & {"web"}, {"web"})
            # Another user sees none of alice's containers and cannot touch them.
            self.assertEqual(b.names("-a") & {"web", "idle"}, set())
            r = b.run("stop", "idle", check=False)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("no container", r.stderr)
            # logs -f follows until the container exits, stdout and stderr in order.
            start = time.monotonic()
            logs = a.run("logs", "-f", "web", timeout=30)
            self.assertLess(time.monotonic() - start, 20)
            self.assertEqual(logs.stdout, "one\nthree\n")
            self.assertEqual(logs.stderr, "two\n")
            doc = json.loads(a.run("inspect", "idle").stdout)
            self.assertEqual(doc[0]["Id"], idle)
            self.assertTrue(doc[0]["State"]["Running"])
            a.run("stop", "-t", "1", "idle")
            self.assertNotIn("idle", a.names())
            a.run("rm", "idle", "web")
            self.assertEqual(a.names("-a") & {"web", "idle"}, set())
        finally:
            events.terminate()
            bob_events.terminate()
        seen = events.communicate(timeout=10)[0]
        for line in ("start web", "die web", "destroy idle"):
            self.assertIn(line, seen)
        self.assertNotIn("web", bob_events.communicate(timeout=10)[0])

    def test_2_refusals(self):
        r = self.alice.run("run", "-d", "--privileged", "--network", "none", IMAGE, "true", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("privileged", r.stderr)
        r = self.alice.run("pause", "anything", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/containers/anything/pause is not implemented", r.stderr)
        status, body = self.raw("POST", "/v1.41/containers/x/pause", self.alice.token)
        self.assertEqual(status, 501)
        self.assertIn("not implemented", json.loads(body)["message"])
        status, _ = self.raw("GET", "/swarm", self.alice.token)
        self.assertEqual(status, 501)
        # No token: 401 naming how to send one (only /_ping is open).
        anonymous = DockerUser(self.port, None)
        r = anonymous.run("ps", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Bearer", r.stderr)
        self.assertEqual(self.raw("GET", "/_ping")[0], 200)
        self.assertEqual(self.raw("GET", "/v1.41/containers/json", "not-a-token")[0], 401)

    def test_3_images_and_pull(self):
        self.assertIn("local/busybox", self.alice.run("images").stdout)
        registry = LocalRegistry(self.mesh)
        try:
            ref = registry.push_from(self.mesh, 1, IMAGE, "pulled")
            out = self.alice.run("pull", ref, timeout=120)
            self.assertIn("pulled", out.stdout)
            repo = ref.rsplit(":", 1)[0]
            self.assertIn(repo, self.alice.run("images").stdout)
            for i in (1, 2):  # pulled on every host that is up
                status, _ = self.mesh.docker(i, "GET", "/images/%s/json" % ref)
                self.assertEqual(status, 200, "host%d has %s" % (i, ref))
            r = self.alice.run("rmi", ref, check=False)  # images are shared: admins only
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("admin", r.stderr)
        finally:
            registry.close()

    def test_4_docker_py(self):
        client = docker.DockerClient(base_url="tcp://127.0.0.1:%d" % self.port, version="1.41",
                                     timeout=60)
        client.api.headers["Authorization"] = "Bearer " + self.alice.token
        self.assertTrue(client.ping())
        c = client.containers.run(IMAGE, ["sh", "-c", "echo from-py"], detach=True,
                                  network_mode="none", name="py1")
        self.assertEqual(client.containers.get("py1").id, c.id)
        self.assertEqual(c.wait(timeout=30)["StatusCode"], 0)
        self.assertEqual(c.logs(), b"from-py\n")
        self.assertIn(c.id, [x.id for x in client.containers.list(all=True)])
        info = client.info()
        self.assertGreaterEqual(info["NCPU"], 2)
        c.remove()
        self.assertNotIn("py1", [x.name for x in client.containers.list(all=True)])
        bob = docker.DockerClient(base_url="tcp://127.0.0.1:%d" % self.port, version="1.41")
        bob.api.headers["Authorization"] = "Bearer " + self.bob.token
        with self.assertRaises(docker.errors.NotFound):
            bob.containers.get(c.id)
        client.close()
        bob.close()

    def test_5_openapi_matches_the_running_bridge(self):
        """The bridge's own REST API: /api/v1/openapi.json (served without a token) names only
        routes the running bridge has: each documented (method, path) is routed (never the
        router's 404 "no API endpoint" nor 405)."""
        status = self.alice_api.get("/api/v1/openapi.json", token="")
        self.assertEqual(status.status, 200)
        doc = status.json
        self.assertEqual(doc["openapi"], "3.0.3")
        checked = 0
        for path, ops in doc["paths"].items():
            concrete = re.sub(r"\{[^}]+\}", "nosuch", path)
            for method in ops:
                r = self.alice_api.request(method.upper(), concrete, raw=b"")
                self.assertNotEqual(r.status, 405, (method, path, r))
                if r.status == 404:
                    self.assertNotIn("no API endpoint", r.text, (method, path))
                checked += 1
        self.assertGreaterEqual(checked, 24)
        # And a route that is not documented is not there.
        self.assertEqual(self.alice_api.get("/api/v1/undocumented").status, 404)


if __name__ == "__main__":
    unittest.main()
