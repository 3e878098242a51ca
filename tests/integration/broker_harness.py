"""broker_harness: a real dockmesh-broker on free loopback ports, and an independent bus client
(dmtest.bus: Debian's python3-zmq and python3-msgpack, no dockmesh code), for the broker's
integration tests (test_broker_*.py).

    with Broker() as b:                       # keys: b.admin, b.bridge, b.agent("host1.mesh.test")
        ctl = b.control(b.admin)              # DEALER with CURVE on the ROUTER endpoint
        code, body = ctl.call("hosts")
        agent = b.bus(b.agents["host1.mesh.test"], "host1.mesh.test")
        agent.publish("ann/", agent.announcement("heartbeat"))

Owned by the broker engineer. Uses only 127.0.0.1.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import msgpack
import zmq
from zmq.utils import z85

from dmtest.bus import BusClient
from dmtest.process import stop_child
from meshlib import BUILD_DIR, free_port_range, wait_for

BROKER = os.path.join(BUILD_DIR, "bin", "dockmesh-broker")


class Key:
    def __init__(self, role, name):
        pub, sec = zmq.curve_keypair()
        self.role, self.name = role, name
        self.public, self.secret = pub.decode(), sec.decode()

    def write(self, path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("public-key = %s\nsecret-key = %s\n" % (self.public, self.secret))


def envelope(action=None, body=None, **fields):
    e = {"v": 1, "id": uuid.uuid4().hex}
    if action:
        e["action"] = action
    if body is not None:
        e["body"] = body
    e.update(fields)
    return e


class Control:
    """DEALER on the broker's ROUTER endpoint: [empty][envelope] -> [empty][reply]."""

    def __init__(self, ctx, endpoint, server_key, key):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.curve_serverkey = server_key.encode()
        self.sock.curve_publickey = key.public.encode()
        self.sock.curve_secretkey = key.secret.encode()
        self.sock.connect(endpoint)

    def call(self, action, body=None, timeout=5.0):
        req = envelope(action, body or {}, reply_to="")
        self.sock.send_multipart([b"", msgpack.packb(req)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sock.poll(int(max(1, (deadline - time.monotonic()) * 1000))):
                frames = self.sock.recv_multipart()
                rep = msgpack.unpackb(frames[-1], raw=False)
                if rep.get("re") == req["id"]:
                    return rep.get("code"), rep.get("body") if rep.get("code", 500) < 400 else rep
        return None, None

    def close(self):
        self.sock.close(0)


def key_bound_id(label, public_z85):
    """common/bus_identity.hpp's key-bound client id: <label>_<hex of the public key>."""
    return "%s_%s" % (label, z85.decode(public_z85.encode()).hex())


class Bus(BusClient):
    """PUB to the XSUB endpoint and SUB from the XPUB endpoint, with CURVE. Given several
    brokers (`also`), it connects to all of them, as dockmesh clients do."""

    def __init__(self, ctx, b, key, client_id, also=()):
        self.key = key
        super().__init__(b.server.public, key.public, key.secret,
                         [(broker.xsub, broker.xpub) for broker in (b,) + tuple(also)],
                         client_id, ctx=ctx)
        self.incarnation = int(time.time() * 1000)
        self.sequence = 0

    def receive(self, timeout=0.2):
        return super().receive(timeout)

    def drain(self):
        while self.receive(0):
            pass

    def ready(self, timeout=10.0):
        """Until a probe on our own reply topic comes back through the broker."""
        if not self.wait_probe(timeout):
            raise AssertionError("no bus round trip for %s within %.0fs" % (self.client_id, timeout))
        return True

    def announcement(self, action, fqdn=None, **extra):
        fqdn = fqdn or self.client_id
        self.sequence += 1
        body = {"fqdn": fqdn, "incarnation": self.incarnation, "sequence": self.sequence}
        if action in ("register", "heartbeat"):
            body.update({"docker_up": True, "docker_version": "20.10", "cpus": 2,
                         "memory_bytes": 8 << 30, "labels": {}, "containers_running": 0,
                         "containers_total": 0})
        body.update(extra)
        return envelope(action, body, **{"from": self.client_id})


class Broker:
    """One broker process. `same_mesh_as` shares another Broker's keys (server key pair,
    admin, bridge, agents): a second broker of the same mesh."""

    def __init__(self, agents=("host1.mesh.test",), extra_args=(), data_dir=None, same_mesh_as=None):
        self.dir = tempfile.mkdtemp(prefix="dmb-")
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        if same_mesh_as:
            m = same_mesh_as
            self.server, self.admin, self.bridge, self.agents = m.server, m.admin, m.bridge, m.agents
        else:
            self.server = Key("server", "broker")
            self.admin = Key("admin", "admin")
            self.bridge = Key("bridge", "bridge")
            self.agents = {f: Key("agent", f) for f in agents}
        self.server.write(os.path.join(self.dir, "broker.key"))
        with open(os.path.join(self.dir, "authorized_keys"), "w") as f:
            f.write("# role name key\n")
            for k in [self.admin, self.bridge] + list(self.agents.values()):
                f.write("%s %s %s\n" % (k.role, k.name, k.public))
        self.base = free_port_range(3)
        self.xsub = "tcp://127.0.0.1:%d" % self.base
        self.xpub = "tcp://127.0.0.1:%d" % (self.base + 1)
        self.router = "tcp://127.0.0.1:%d" % (self.base + 2)
        self.extra_args = list(extra_args)
        self.ctx = zmq.Context()
        self.proc = None
        self._killed = False
        self.log_path = os.path.join(self.dir, "broker.log")
        self._closeables = []

    def argv(self):
        return [BROKER, "--data-dir", self.data_dir,
                "--server-key", os.path.join(self.dir, "broker.key"),
                "--authorized-keys", os.path.join(self.dir, "authorized_keys"),
                "--xsub-endpoint", self.xsub, "--xpub-endpoint", self.xpub,
                "--router-endpoint", self.router, "--log-level", "debug"] + self.extra_args

    def start(self):
        self._killed = False
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log, stderr=subprocess.STDOUT)
        probe = self.control(self.admin)
        wait_for(lambda: self.alive() and probe.call("stats", timeout=0.5)[0] == 200, 15,
                 message="broker answering on " + self.router)
        return self

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("broker exited with %s; log:\n%s" % (self.proc.returncode, self.tail()))
        return True

    def kill9(self):
        self._killed = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()
        self.log = None

    def stop(self):
        """SIGTERM and wait; returns the exit code (None after kill9)."""
        if self.proc and self.proc.poll() is not None and self._killed:
            return None
        if self.proc:
            stop_child(self.proc)
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        return self.proc.returncode if self.proc else None

    def tail(self, lines=40):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def control(self, key):
        c = Control(self.ctx, self.router, self.server.public, key)
        self._closeables.append(c)
        return c

    def bus(self, key, client_id, also=()):
        if key.role in ("bridge", "broker"):
            # Only an agent's fqdn is a client id of its own; any other key's reply topic must
            # be bound to the key, or the broker refuses the subscription.
            client_id = key_bound_id(client_id, key.public)
        b = Bus(self.ctx, self, key, client_id, also)
        self._closeables.append(b)
        return b

    def stats(self):
        code, body = self.control(self.admin).call("stats")
        assert code == 200, body
        return body

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            print("--- broker log tail:\n" + self.tail(60))
        for c in self._closeables:
            c.close()
        rc = self.stop()
        self.ctx.term()
        log = self.tail(400)
        if exc_type is None and (rc not in (0, None) or "Sanitizer" in log):
            raise AssertionError("broker stopped badly (exit %s); log:\n%s" % (rc, log))
        if os.environ.get("DM_KEEP_BROKER") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
        return False
