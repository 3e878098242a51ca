"""agent_bus: an independent bus client for the agent's integration tests (test_agent_*.py), on
dmtest.bus (Debian's python3-zmq and python3-msgpack only): it speaks the envelope of
common/envelope.hpp directly, so it can set `id`, `attempt`, `user` and `role` the way the bridge
would (the CLI always sends as admin). It connects with the mesh's admin key, which the broker
allows to publish on req/host/ and req/all/.

Also: helpers to replace one of a mesh's processes (an agent with extra options, a dockerd) by a
new one that mesh.sh still knows about (its pid file is updated, so `down` stops it).

Owned by the agent engineer. Only 127.0.0.1.
"""

import io
import os
import signal
import subprocess
import tarfile
import time
import urllib.request
import uuid

from dmtest import unix_http
from dmtest.process import stop_child
from dmtest.bus import BusClient, read_key_file  # noqa: F401 (read_key_file: for importers)
from meshlib import free_port_range, wait_for


class AgentBus(BusClient):
    """PUB/SUB with CURVE to the mesh's broker, as the mesh's admin key."""

    def __init__(self, mesh, client_id=None):
        self.mesh = mesh
        admin = read_key_file(mesh.path("admin.key"))
        server = read_key_file(mesh.path("broker.pub"))["public-key"]
        super().__init__(server, admin["public-key"], admin["secret-key"],
                         [("tcp://127.0.0.1:%d" % mesh.base_port,
                           "tcp://127.0.0.1:%d" % (mesh.base_port + 1))],
                         client_id or "agenttest-" + uuid.uuid4().hex[:8])
        if not self.wait_probe(15.0):
            self.close()
            raise AssertionError("the bus did not echo a probe within 15s")

    def envelope(self, action, body=None, user="admin", role="admin", id=None, attempt=0,
                 deadline_ms=None):
        e = {"v": 1, "id": id or uuid.uuid4().hex, "action": action, "from": self.client_id,
             "reply_to": self.reply_topic, "user": user, "role": role}
        if body is not None:
            e["body"] = body
        if attempt:
            e["attempt"] = attempt
        if deadline_ms:
            e["deadline"] = deadline_ms
        return e

    def wait_reply(self, request_id, timeout=30.0, other=None):
        """The first reply whose `re` is request_id. Other messages go to other(topic, env)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.receive(deadline - time.monotonic())
            if not m:
                continue
            topic, env = m
            if topic == self.reply_topic and env.get("re") == request_id:
                return env
            if other:
                other(topic, env)
        raise AssertionError("no reply to %s within %.0fs" % (request_id, timeout))

    def request(self, host, action, body=None, timeout=30.0, other=None, **fields):
        """One request on req/host/<host>/ and its reply envelope."""
        env = self.envelope(action, body, **fields)
        self.publish("req/host/%s/" % host, env)
        return self.wait_reply(env["id"], timeout, other)

    def collect(self, topic, action, body=None, count=1, timeout=10.0, **fields):
        """Replies from distinct senders to one request on `topic` (a broadcast)."""
        env = self.envelope(action, body, **fields)
        self.publish(topic, env)
        replies = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(replies) < count:
            m = self.receive(deadline - time.monotonic())
            if m and m[0] == self.reply_topic and m[1].get("re") == env["id"]:
                replies[m[1].get("from")] = m[1]
        return replies


# ---------------------------------------------------------------------- process replacement

def _cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return [a.decode() for a in f.read().split(b"\0") if a]


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def stop_process(mesh, name, timeout=30.0):
    """SIGTERM to the process mesh.sh recorded as `name`; waits until it is gone. Returns its
    command line (for restart_process)."""
    pid = mesh.pid(name)
    assert pid and _alive(pid), "%s is not running" % name
    argv = _cmdline(pid)
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not _alive(pid), timeout=timeout, message="%s (pid %d) to exit" % (name, pid))
    return argv


def start_process(mesh, name, argv):
    """Starts argv as `name` (log appended to DIR/logs/<name>.log) and records its pid where
    mesh.sh looks, so `mesh.sh down` stops it. Returns the Popen."""
    log = open(mesh.path("logs", name + ".log"), "ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    log.close()
    with open(mesh.path("pids", name + ".pid"), "w") as f:
        f.write("%d\n" % proc.pid)
    return proc


def restart_agent(mesh, i, extra_args=()):
    """Replaces host i's agent by one started with its old arguments plus extra_args."""
    name = "agent-host%d" % i
    argv = stop_process(mesh, name)
    return start_process(mesh, name, argv + list(extra_args))


def host_record(mesh, fqdn):
    rc, out = mesh.ctl("hosts")
    if rc != 0 or not isinstance(out, dict):
        return None
    for h in out.get("hosts", []):
        if h.get("fqdn") == fqdn:
            return h
    return None


# ---------------------------------------------------------------------- raw Docker and a registry

def docker_raw(mesh, i, method, path, data=None, headers=None, timeout=120):
    """One Docker API call with a raw body: (status, body bytes)."""
    return unix_http.call_raw(mesh.socket_path(i), method, path, data, headers, timeout)


def make_image_tar(files):
    """A tar (bytes) of {path: bytes}, for POST /images/create?fromSrc=-."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def free_port():
    """A TCP port that was free on 127.0.0.1 a moment ago, below the ephemeral range."""
    return free_port_range(1)


class Registry:
    """Debian's docker-registry on 127.0.0.1:<free port> with its own config and storage."""

    def __init__(self, mesh, port):
        self.port = port
        self.dir = mesh.path("registry")
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "config.yml")
        with open(self.config, "w") as f:
            f.write("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                    "    rootdirectory: %s/data\n  delete:\n    enabled: true\n"
                    "http:\n  addr: 127.0.0.1:%d\n" % (self.dir, port))
        self.log = open(os.path.join(mesh.path("logs"), "registry.log"), "ab")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["docker-registry", "serve", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def up():
            try:
                return urllib.request.urlopen("http://127.0.0.1:%d/v2/" % self.port, timeout=1).status == 200
            except OSError:
                return False
        wait_for(up, timeout=20, message="docker-registry on port %d" % self.port)

    def stop(self):
        if self.proc:
            stop_child(self.proc)
        self.proc = None

    def close(self):
        self.stop()
        self.log.close()
