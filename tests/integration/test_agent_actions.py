"""The agent's actions on a real two-host mesh (real dockerds, broker, agents), checked against
each dockerd's own Docker API: every action, the replies' codes and bodies, hostile input,
pull-image from a real local registry with progress events, templates, broadcasts.

One mesh serves the whole class; tests run in name order and clean up after themselves.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_bus import (AgentBus, Registry, docker_raw, free_port, host_record,  # noqa: E402
                       make_image_tar, restart_agent)
from meshlib import BUILD_DIR, Mesh, wait_for  # noqa: E402

H1 = "host1.mesh.test"
H2 = "host2.mesh.test"
IMAGE = "local/busybox:latest"
AGENT = os.path.join(BUILD_DIR, "bin", "dockmesh-agent")
# A container that exits on SIGTERM (sh as pid 1 ignores it unless trapped) and writes to both
# streams.
TALKER = ["sh", "-c", "trap 'exit 3' TERM; echo to-stdout; echo to-stderr >&2; "
                      "while true; do sleep 0.2; done"]


class AgentActionsTest(unittest.TestCase):
    mesh = None
    bus = None
    started = []  # processes this test started itself (replacement agents)

    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh(hosts=2, bridge=False, labels={1: {"zone": "a"}, 2: {"zone": "b"}}).up()
        try:
            cls.bus = AgentBus(cls.mesh)
        except Exception:
            cls.mesh.dump_logs()
            cls.mesh.down()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.bus:
            cls.bus.close()
        if cls.mesh:
            cls.mesh.down()  # stops the replacement agents too: their pid files are mesh.sh's
        for p in cls.started:
            p.wait(timeout=30)

    def tearDown(self):
        result = getattr(self._outcome, "result", None)
        if result and any(t is self for t, _ in result.failures + result.errors):
            self.mesh.dump_logs()

    # ------------------------------------------------------------------ helpers

    def call(self, action, body=None, host=H1, timeout=30.0, **fields):
        return self.bus.request(host, action, body, timeout=timeout, **fields)

    def ok(self, action, body=None, host=H1, codes=(200,), **fields):
        r = self.call(action, body, host, **fields)
        self.assertIn(r.get("code"), codes, r)
        self.assertEqual(r.get("from"), host)
        return r.get("body")

    def refused(self, action, body, code, words, host=H1, **fields):
        r = self.call(action, body, host, **fields)
        self.assertEqual(r.get("code"), code, r)
        message = r.get("error", {}).get("message", "")
        for w in words:
            self.assertIn(w, message, r)
        return r

    def docker(self, method, path, body=None, i=1):
        return self.mesh.docker(i, method, path, body)

    def inspect(self, ref, i=1):
        status, info = self.docker("GET", "/containers/%s/json" % ref, i=i)
        return info if status == 200 else None

    def create(self, name, cmd=TALKER, host=H1, **extra):
        body = {"image": IMAGE, "name": name, "cmd": cmd, "network_mode": "none"}
        body.update(extra)
        return self.ok("create-container", body, host, codes=(201,))

    def remove_quietly(self, ref, i=1):
        self.docker("DELETE", "/containers/%s?force=1" % ref, i=i)

    # ------------------------------------------------------------------ host actions

    def test_01_ping_host_info_disk_usage(self):
        body = self.ok("ping")
        self.assertEqual(body["pong"], True)
        self.assertEqual(body["docker"], "OK")
        info = self.ok("host-info", host=H2)
        self.assertEqual(info["fqdn"], H2)
        self.assertEqual(info["labels"], {"zone": "b"})
        self.assertEqual(info["api_version"], "1.41")
        self.assertTrue(info["docker_version"].startswith("20.10"))
        for k in ("cpus", "memory_bytes", "os", "kernel", "storage_driver", "containers_running",
                  "containers_stopped", "images", "agent_version"):
            self.assertIn(k, info)
        self.assertGreaterEqual(info["images"], 1)
        df = self.ok("disk-usage")
        self.assertGreaterEqual(df["summary"]["images"]["count"], 1)
        self.assertIn(IMAGE, [t for i in df["images"] for t in i["tags"]])
        self.refused("ping", {"verbose": True}, 400, ["verbose"])

    def test_02_broadcast_reaches_every_agent(self):
        replies = self.bus.collect("req/all/", "ping", count=2, timeout=10)
        self.assertEqual(set(replies), {H1, H2})
        self.assertTrue(all(r["code"] == 200 for r in replies.values()))
        rc, out = self.mesh.ctl("send", "--all", json.dumps({"action": "host-info"}))
        self.assertEqual(rc, 0, self.mesh.last_stderr)
        self.assertIn(H1, json.dumps(out))
        self.assertIn(H2, json.dumps(out))

    def test_03_unknown_action_names_it(self):
        self.refused("exec-container", {"id": "x", "cmd": ["sh"]}, 400,
                     ["unknown action 'exec-container'"])
        rc, _ = self.mesh.send({"action": "frobnicate", "host": H1})
        self.assertNotEqual(rc, 0)
        self.assertIn("unknown action 'frobnicate'", self.mesh.last_stderr)

    # ------------------------------------------------------------------ container lifecycle

    def test_10_create_inspect_list_logs_stats(self):
        made = self.create("talker", labels={"tier": "web"}, env=["GREETING=hi"], memory=64 << 20,
                           cpus=0.5, working_dir="/tmp", restart_policy="on-failure:2")
        cid = made["id"]
        self.assertEqual(made["name"], "talker")
        self.assertEqual(made["containers"][0]["started"], True)
        info = self.inspect(cid)
        self.assertTrue(info["State"]["Running"])
        labels = info["Config"]["Labels"]
        self.assertEqual(labels["dockmesh.owner"], "admin")
        self.assertEqual(labels["tier"], "web")
        self.assertIn("dockmesh.request", labels)
        self.assertIn("GREETING=hi", info["Config"]["Env"])
        self.assertEqual(info["HostConfig"]["Memory"], 64 << 20)
        self.assertEqual(info["HostConfig"]["NanoCpus"], 500000000)
        self.assertEqual(info["HostConfig"]["NetworkMode"], "none")
        self.assertEqual(info["HostConfig"]["RestartPolicy"], {"Name": "on-failure", "MaximumRetryCount": 2})
        self.assertEqual(info["Config"]["WorkingDir"], "/tmp")
        self.assertIsNone(self.inspect(cid, i=2), "created on host1 only")

        got = self.ok("inspect-container", {"id": "talker"})
        self.assertEqual(got["Id"], cid)
        listed = self.ok("list-containers", {"label": "tier=web"})["containers"]
        self.assertEqual([c["id"] for c in listed], [cid])
        self.assertEqual(listed[0]["owner"], "admin")
        self.assertEqual(listed[0]["host"], H1)
        self.assertEqual(self.ok("list-containers", {"label": "tier=db"})["containers"], [])
        self.assertEqual(len(self.ok("list-containers", {"name": "talker", "status": "running"})["containers"]), 1)
        self.assertEqual(self.ok("list-containers", {"status": "exited"})["containers"], [])

        logs = wait_for(lambda: (lambda b: b if "to-stderr" in b["stderr"] else None)(
            self.ok("container-logs", {"id": "talker"})), timeout=10, message="logs")
        self.assertEqual(logs["stdout"], "to-stdout\n")
        self.assertEqual(logs["stderr"], "to-stderr\n")
        only_err = self.ok("container-logs", {"id": "talker", "stdout": False, "timestamps": True})
        self.assertEqual(only_err["stdout"], "")
        self.assertRegex(only_err["stderr"], r"^\d{4}-\d\d-\d\dT\S+ to-stderr\n$")
        self.assertEqual(self.ok("container-logs", {"id": "talker", "tail": 0})["stdout"], "")

        stats = self.ok("container-stats", {"id": cid[:12]}, timeout=30)
        self.assertEqual(stats["running"], True)
        self.assertEqual(stats["memory_limit"], 64 << 20)
        self.assertGreater(stats["memory_usage"], 0)
        self.assertGreaterEqual(stats["pids"], 1)
        for k in ("cpu_percent", "network_rx_bytes", "block_read_bytes", "block_write_bytes"):
            self.assertIn(k, stats)
        # The directory learns about the container from the agent's inventory.
        wait_for(lambda: any(c.get("id") == cid for c in (self.mesh.ctl("containers")[1] or {}).get("containers", [])),
                 timeout=10, message="container in the directory")

    def test_11_stop_start_restart_kill_with_notes(self):
        t0 = time.monotonic()
        body = self.ok("stop-container", {"id": "talker", "timeout": 5})
        self.assertEqual(body["result"], "stopped")
        self.assertEqual(self.inspect("talker")["State"]["ExitCode"], 3, "SIGTERM reached the trap")
        self.assertLess(time.monotonic() - t0, 5, "stopped by SIGTERM, not by the SIGKILL deadline")
        again = self.ok("stop-container", {"id": "talker"})
        self.assertEqual(again.get("note"), "already stopped")
        started = self.ok("start-container", {"id": "talker"})
        self.assertNotIn("note", started)
        self.assertTrue(self.inspect("talker")["State"]["Running"])
        self.assertEqual(self.ok("start-container", {"id": "talker"}).get("note"), "already running")
        before = self.inspect("talker")["State"]["StartedAt"]
        self.ok("restart-container", {"id": "talker", "timeout": 2})
        after = self.inspect("talker")["State"]
        self.assertTrue(after["Running"])
        self.assertNotEqual(after["StartedAt"], before)
        self.ok("kill-container", {"id": "talker", "signal": "TERM"})
        wait_for(lambda: not self.inspect("talker")["State"]["Running"], timeout=10, message="TERM to end it")
        self.assertEqual(self.inspect("talker")["State"]["ExitCode"], 3)
        r = self.refused("kill-container", {"id": "talker"}, 409, ["is not running"])
        self.assertEqual(r["error"]["code"], "conflict")

    def test_12_real_stop_kills_after_the_grace_period(self):
        self.create("stubborn", cmd=["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"])
        t0 = time.monotonic()
        self.ok("stop-container", {"id": "stubborn", "timeout": 2})
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 1.9, "Docker waited the grace period")
        self.assertEqual(self.inspect("stubborn")["State"]["ExitCode"], 137, "then SIGKILL")
        self.ok("remove-container", {"id": "stubborn"})

    def test_13_remove_and_its_alias(self):
        self.ok("start-container", {"id": "talker"})
        self.refused("remove-container", {"id": "talker"}, 409, ["cannot remove a running container"])
        self.assertIsNotNone(self.inspect("talker"))
        self.assertEqual(self.ok("remove-container", {"id": "talker", "force": True})["result"], "removed")
        self.assertIsNone(self.inspect("talker"))
        self.refused("inspect-container", {"id": "talker"}, 404, ["no container 'talker'"])
        self.create("alias-me", cmd=["true"], start=False)
        self.assertEqual(self.inspect("alias-me")["State"]["Status"], "created")
        self.ok("delete-container", {"id": "alias-me"})
        self.assertIsNone(self.inspect("alias-me"))

    def test_13b_a_create_without_a_name_replies_with_dockers_name(self):
        made = self.ok("create-container", {"image": IMAGE, "cmd": ["true"], "network_mode": "none",
                                            "start": False}, codes=(201,))
        try:
            docker_name = self.inspect(made["id"])["Name"].lstrip("/")
            self.assertTrue(docker_name)
            self.assertEqual(made["name"], docker_name)
            self.assertEqual(made["containers"][0]["name"], docker_name)
            # The agent remembers the name it learned for its own later replies.
            started = self.ok("start-container", {"id": made["id"]})
            self.assertEqual(started["name"], docker_name)
        finally:
            self.remove_quietly(made["id"])

    def test_14_instances_and_start_false(self):
        made = self.ok("create-container", {"image": IMAGE, "name": "multi", "instances": 3, "start": False,
                                            "cmd": ["sleep", "60"], "network_mode": "none"}, codes=(201,))
        self.assertEqual([c["name"] for c in made["containers"]], ["multi-1", "multi-2", "multi-3"])
        for n in (1, 2, 3):
            info = self.inspect("multi-%d" % n)
            self.assertEqual(info["State"]["Status"], "created")
            self.assertEqual(info["Config"]["Labels"]["dockmesh.instance"], str(n))
        self.assertEqual(len({self.inspect("multi-%d" % n)["Config"]["Labels"]["dockmesh.request"]
                              for n in (1, 2, 3)}), 1)
        for n in (1, 2, 3):
            self.ok("remove-container", {"id": "multi-%d" % n})

    def test_15_create_failures_carry_dockers_message(self):
        r = self.refused("create-container", {"image": "local/nosuch:latest", "network_mode": "none"}, 404,
                         ["No such image"])
        self.assertEqual(r["error"]["code"], "not_found")
        self.create("dup", cmd=["sleep", "60"])
        # per_host_names: past the brokers' mesh-wide name check, so that Docker's own refusal
        # is what comes back (without it the broker answers 409 naming the host first).
        self.refused("create-container", {"image": IMAGE, "name": "dup", "cmd": ["true"], "network_mode": "none",
                                          "per_host_names": True},
                     409, ["already in use"])
        # An imported image has no CMD: Docker refuses to create without one, and says so.
        self.refused("create-container", {"image": IMAGE, "network_mode": "none"}, 400, ["No command specified"])
        bad = self.refused("create-container", {"image": IMAGE, "name": "badcmd", "cmd": ["/no/such/binary"],
                                                "network_mode": "none"}, 400, ["created but did not start"])
        self.assertEqual(bad["body"]["name"], "badcmd")  # reported, so it can be removed
        self.ok("remove-container", {"id": "badcmd"})
        self.ok("remove-container", {"id": "dup", "force": True})
        self.refused("create-container", {"image": IMAGE, "memory": 1024}, 400, ["Minimum memory limit"])

    # ------------------------------------------------------------------ hostile input (item 7)

    def test_20_hostile_input_is_refused_naming_the_field(self):
        before = self.mesh.container_ids(1)
        cases = [
            ("inspect-container", {"id": "../../info"}, "id"),
            ("inspect-container", {"id": "x?all=1"}, "id"),
            ("inspect-container", {"id": "x#frag"}, "id"),
            ("inspect-container", {"id": "..%2F..%2Finfo"}, "id"),
            ("inspect-container", {"id": "a b"}, "id"),
            ("inspect-container", {"id": "x\u0000y"}, "id"),
            ("inspect-container", {"id": "x\r\nX-Injected: 1"}, "id"),
            ("inspect-container", {"id": "a" * 200}, "id"),
            ("inspect-container", {"id": 12}, "id"),
            ("inspect-container", {}, "id"),
            ("stop-container", {"id": "x", "timeout": "10"}, "timeout"),
            ("stop-container", {"id": "x", "timeout": -1}, "timeout"),
            ("kill-container", {"id": "x", "signal": "KILL&force=1"}, "signal"),
            ("kill-container", {"id": "x", "signal": "SIGBOGUS"}, "signal"),
            ("remove-container", {"id": "x", "force": "true"}, "force"),
            ("container-logs", {"id": "x", "tail": "10; rm -rf /"}, "tail"),
            ("list-containers", {"label": "a b"}, "label"),
            ("list-containers", {"status": "running&all=1"}, "status"),
            ("list-containers", {"all": "yes"}, "all"),
            ("create-container", {"image": "../../etc/passwd"}, "image"),
            ("create-container", {"image": "Local/Busybox"}, "image"),
            ("create-container", {"image": IMAGE, "name": "../evil"}, "name"),
            ("create-container", {"image": IMAGE, "name": "x%2Fy"}, "name"),
            ("create-container", {"image": IMAGE, "env": ["OK=1", "NOT AN ENV"]}, "env[1]"),
            ("create-container", {"image": IMAGE, "env": "A=1"}, "env"),
            ("create-container", {"image": IMAGE, "labels": {"dockmesh.owner": "mallory"}}, "labels"),
            ("create-container", {"image": IMAGE, "labels": {"bad key": "v"}}, "labels"),
            ("create-container", {"image": IMAGE, "labels": {"k": "line\nbreak"}}, "labels.k"),
            ("create-container", {"image": IMAGE, "network_mode": "container:../x"}, "network_mode"),
            ("create-container", {"image": IMAGE, "user": "root;id"}, "user"),
            ("create-container", {"image": IMAGE, "instances": 0}, "instances"),
            ("create-container", {"image": IMAGE, "cmd": "sh -c id"}, "cmd"),
            ("create-container", {"image": IMAGE, "privileged": True}, "privileged"),
            ("create-container", {"image": IMAGE, "binds": ["/etc/../:/x"]}, "binds[0]"),
            ("create-container", {"template": "../../etc"}, "template"),
            ("inspect-image", {"image": "busybox?x"}, "image"),
            ("pull-image", {"image": "localhost:5000/../x"}, "image"),
            ("pull-image", {"image": "x", "auth": {"user": "u"}}, "auth.user"),
            ("remove-image", {"image": "a" * 300}, "image"),
            ("list-images", {"reference": "x&y"}, "reference"),
        ]
        for action, body, field in cases:
            with self.subTest(action=action, body=body):
                r = self.refused(action, body, 400, [field])
                self.assertEqual(r["error"]["code"], "invalid_argument")
        self.assertEqual(self.mesh.container_ids(1), before, "nothing was created")
        # And through the CLI, the way an operator would type it.
        rc, _ = self.mesh.send({"action": "inspect-container", "host": H1, "id": "../../../info"})
        self.assertNotEqual(rc, 0)
        self.assertIn("field 'id'", self.mesh.last_stderr)
        # The agent is still there.
        self.ok("ping")

    # ------------------------------------------------------------------ images and a registry

    def test_30_list_inspect_remove_images(self):
        images = self.ok("list-images")["images"]
        self.assertIn(IMAGE, [t for i in images for t in i["tags"]])
        self.assertEqual([t for i in self.ok("list-images", {"reference": "local/*"})["images"] for t in i["tags"]],
                         [IMAGE])
        info = self.ok("inspect-image", {"image": IMAGE})
        self.assertEqual(info["RepoTags"], [IMAGE])
        self.refused("inspect-image", {"image": "local/nosuch:1"}, 404, ["No such image"])
        status, _ = docker_raw(self.mesh, 1, "POST", "/images/local/busybox:latest/tag?repo=local/spare&tag=x")
        self.assertEqual(status, 201)
        self.refused("remove-image", {"image": "local/spare:x"}, 403, ["admin"], user="alice", role="user")
        removed = self.ok("remove-image", {"image": "local/spare:x"})
        self.assertEqual(removed["untagged"], ["local/spare:x"])
        self.refused("remove-image", {"image": "local/spare:x"}, 404, ["No such image"])

    def test_31_pull_image_from_a_local_registry(self):
        registry = Registry(self.mesh, free_port())
        try:
            self._pull_checks(registry)
        finally:
            registry.close()

    def _pull_checks(self, registry):
        repo = "localhost:%d/payload" % registry.port
        tar = make_image_tar({"payload.bin": os.urandom(2 << 20), "hello.txt": b"hello\n"})
        status, out = docker_raw(self.mesh, 1, "POST", "/images/create?fromSrc=-&repo=%s&tag=v1" % repo, tar,
                                 {"Content-Type": "application/x-tar"})
        self.assertEqual(status, 200, out)
        auth = base64.urlsafe_b64encode(b"{}").decode()
        status, out = docker_raw(self.mesh, 1, "POST", "/images/%s/push?tag=v1" % repo, b"",
                                 {"X-Registry-Auth": auth})
        self.assertEqual(status, 200, out)
        self.assertNotIn(b'"error"', out)
        status, _ = docker_raw(self.mesh, 1, "DELETE", "/images/%s:v1" % repo)
        self.assertEqual(status, 200)
        self.assertEqual(self.docker("GET", "/images/%s:v1/json" % repo)[0], 404)

        evt = "evt/host/%s/" % H1
        self.bus.subscribe(evt)
        events = []
        secret = "s3cret-" + uuid.uuid4().hex
        env = self.bus.envelope("pull-image", {"image": "%s:v1" % repo,
                                               "auth": {"username": "u", "password": secret,
                                                        "server_address": "localhost:%d" % registry.port}})
        self.bus.publish("req/host/%s/" % H1, env)
        reply = self.bus.wait_reply(env["id"], timeout=120,
                                    other=lambda t, e: events.append(e) if t == evt else None)
        self.assertEqual(reply["code"], 200, reply)
        self.assertEqual(reply["body"]["image"], "%s:v1" % repo)
        self.assertTrue(reply["body"]["status"].startswith("Downloaded newer image"), reply)
        progress = [e["body"] for e in events if e.get("action") == "pull-progress"
                    and e["body"].get("request") == env["id"]]
        statuses = [p["status"] for p in progress]
        self.assertIn("Pull complete", statuses)
        self.assertTrue(any(p.get("total") for p in progress), "byte counts are forwarded")
        self.assertEqual(self.docker("GET", "/images/%s:v1/json" % repo)[0], 200)
        # Pulled again: already there.
        self.assertIn("up to date", self.ok("pull-image", {"image": "%s:v1" % repo}, timeout=60)["status"])
        # A tag the registry does not have, then the registry gone.
        self.refused("pull-image", {"image": "%s:nope" % repo}, 404, ["not found"], timeout=60)
        registry.stop()
        self.refused("pull-image", {"image": "%s:v2" % repo}, 503, ["connection refused"], timeout=60)
        # The credentials went to Docker in a header, and nowhere else.
        for name in os.listdir(self.mesh.path("logs")):
            with open(self.mesh.path("logs", name), errors="replace") as f:
                self.assertNotIn(secret, f.read(), name)
        self.assertNotIn(secret, json.dumps(reply))

    # ------------------------------------------------------------------ templates (restarts host1's agent)

    def test_40_templates(self):
        tdir = self.mesh.path("templates")
        os.makedirs(tdir, exist_ok=True)
        with open(os.path.join(tdir, "sleeper.json"), "w") as f:
            json.dump({"image": IMAGE, "cmd": ["sleep", "300"], "network_mode": "none",
                       "env": ["MODE=template", "KEEP=1"], "labels": {"app": "sleeper"},
                       "memory": 32 << 20}, f)
        old_incarnation = host_record(self.mesh, H1)["incarnation"]
        self.started.append(restart_agent(self.mesh, 1, ["--templates-dir", tdir]))
        wait_for(lambda: (host_record(self.mesh, H1) or {}).get("incarnation", old_incarnation) != old_incarnation
                 and host_record(self.mesh, H1).get("status") == "up", timeout=20, message="the new agent")
        made = self.ok("create-container", {"template": "sleeper", "name": "from-template",
                                            "env": ["MODE=request"], "labels": {"tier": "x"}}, codes=(201,))
        info = self.inspect(made["id"])
        self.assertEqual(info["Config"]["Cmd"], ["sleep", "300"])
        self.assertIn("MODE=request", info["Config"]["Env"])
        self.assertIn("KEEP=1", info["Config"]["Env"])
        self.assertNotIn("MODE=template", info["Config"]["Env"])
        self.assertEqual(info["HostConfig"]["Memory"], 32 << 20)
        labels = info["Config"]["Labels"]
        self.assertEqual((labels["app"], labels["tier"], labels["dockmesh.template"]), ("sleeper", "x", "sleeper"))
        self.refused("create-container", {"template": "nosuch"}, 404, ["no template named 'nosuch'"])
        self.refused("create-container", {"template": "sleeper"}, 404, ["no template"], host=H2)
        self.ok("remove-container", {"id": "from-template", "force": True})

    def test_41_a_bad_template_stops_the_agent_at_start(self):
        with tempfile.TemporaryDirectory(prefix="dmtpl") as d:
            with open(os.path.join(d, "broken.json"), "w") as f:
                f.write('{"image": "x", "env": ["NOT VALID"]}')
            r = subprocess.run([AGENT, "--fqdn", "x.test", "--templates-dir", d, "--broker", "127.0.0.1:1",
                                "--broker-key", "x", "--key", "/nonexistent"],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("broken.json", r.stderr)
            self.assertIn("env[0]", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()
