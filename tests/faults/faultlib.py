"""faultlib: fault injection on a real dockmesh (tests/integration/meshlib.Mesh), and an
independent bus client (python3-zmq + python3-msgpack, no dockmesh code) that controls request
ids and retries, so a test can check "answered or retried to exactly one effect".

    with Mesh(hosts=2, bridge=False) as mesh:
        procs = Processes(mesh)
        bus = Bus(mesh)                          # admin key, CURVE, own rep/ topic
        reply = bus.call("host1.mesh.test", "ping", {})
        argv = procs.kill9("broker")             # SIGKILL, returns how it was started
        procs.start("broker", argv)              # same argv/env, same log, pid file updated

Only processes of this mesh are signalled, by the pid mesh.sh recorded. Deadlines scale with
DM_SLOW_FACTOR (scripts/sanitize.sh sets it: sanitized daemons are slower). Owned by the
reliability tests.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid


HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from dmtest.bus import BusClient, read_key_file  # noqa: E402
from meshlib import BUILD_DIR, SOURCE_DIR, Mesh, wait_for  # noqa: E402,F401

SLOW = float(os.environ.get("DM_SLOW_FACTOR", "1") or 1)
IMAGE = "local/busybox:latest"


def scaled(seconds):
    return seconds * SLOW


# ---------------------------------------------------------------------------- processes

def _read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        state = _read("/proc/%d/stat" % pid).rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def docker_answers(mesh, i):
    """True once host i's dockerd answers /_ping (False while its socket is gone or dead)."""
    try:
        return mesh.docker(i, "GET", "/_ping", timeout=2)[0] == 200
    except OSError:  # the socket of a killed dockerd, until the new one listens
        return False


def containerd_of(mesh, i):
    """Pids of the containerd that host i's dockerd started (not its shims): a dockerd killed
    with SIGKILL takes it down too, and a new dockerd must not start beside it."""
    root, pids = mesh.path("host%d" % i) + "/", []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == "containerd" and any(root in a for a in argv):
            pids.append(int(p))
    return pids


def rss_kb(pid):
    for line in _read("/proc/%d/status" % pid).splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU time of pid so far."""
    fields = _read("/proc/%d/stat" % pid).rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def netns_of(pid):
    """The /var/run/netns/ path of pid's network namespace when it is not ours, else None."""
    theirs = os.stat("/proc/%d/ns/net" % pid).st_ino
    if theirs == os.stat("/proc/self/ns/net").st_ino:
        return None
    root = "/var/run/netns"
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        if os.stat(os.path.join(root, name)).st_ino == theirs:
            return os.path.join(root, name)
    raise AssertionError("pid %d runs in a network namespace with no name" % pid)


class Processes:
    """Kills, freezes and restarts the daemons mesh.sh started (by their recorded pids)."""

    def __init__(self, mesh):
        self.mesh = mesh
        self.children = []

    def pid(self, name):
        pid = self.mesh.pid(name)
        assert pid and alive(pid), "%s is not running (pid %r)" % (name, pid)
        return pid

    def launch_info(self, name):
        """(argv, environment) of a running daemon, read from /proc. A daemon in a network
        namespace of the mesh (mesh.sh --broker-netns) is started again in it: argv begins
        with nsenter then."""
        pid = self.pid(name)
        argv = [a.decode() for a in _read("/proc/%d/cmdline" % pid, "rb").split(b"\0") if a]
        netns = netns_of(pid)
        if netns:
            argv = ["nsenter", "--net=" + netns] + argv
        env = dict(e.decode(errors="replace").split("=", 1)
                   for e in _read("/proc/%d/environ" % pid, "rb").split(b"\0") if b"=" in e)
        return argv, env

    def kill9(self, name, timeout=10):
        """SIGKILL; waits until the process is gone; returns (argv, env) to restart it."""
        info = self.launch_info(name)
        pid = self.pid(name)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not alive(pid), timeout, message="%s (pid %d) to die" % (name, pid))
        self._reap()
        # A daemon killed this way leaves its pid file behind. dockerd refuses to start while
        # the pid in it belongs to a live process, and on a busy machine that pid is soon
        # another process's ("pid file found, ensure docker is not running"): remove it, as an
        # operator (or systemd) would before starting the daemon again.
        argv = info[0]
        for i, a in enumerate(argv[:-1]):
            if a == "--pidfile":
                try:
                    os.unlink(argv[i + 1])
                except FileNotFoundError:
                    pass
        return info

    def terminate(self, name, timeout=30):
        """SIGTERM (a clean stop); waits until gone; returns (argv, env)."""
        info = self.launch_info(name)
        pid = self.pid(name)
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not alive(pid), scaled(timeout), message="%s (pid %d) to stop" % (name, pid))
        self._reap()
        return info

    def freeze(self, name):
        os.kill(self.pid(name), signal.SIGSTOP)

    def thaw(self, name):
        os.kill(self.mesh.pid(name), signal.SIGCONT)

    def start(self, name, info, netns=None):
        """Starts a daemon again as it was started before, appending to its log, and records
        its pid where mesh.sh looks (so `mesh.sh down` stops it)."""
        argv, env = info
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        log = open(self.mesh.path("logs", name + ".log"), "ab")
        log.write(("\n--- faultlib: restarted at %s ---\n" % time.strftime("%H:%M:%S")).encode())
        log.flush()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             env=env, start_new_session=True)
        log.close()
        self.children.append(p)
        with open(self.mesh.path("pids", name + ".pid"), "w") as f:
            f.write("%d\n" % p.pid)
        return p

    def _reap(self):
        for p in self.children:
            p.poll()

    def close(self):
        self._reap()


# ---------------------------------------------------------------------------- keys

def broker_public_key(mesh):
    return read_key_file(mesh.path("broker.pub"))["public-key"]


# ---------------------------------------------------------------------------- bus client

class Bus(BusClient):
    """A bus client of its own: PUB to the broker's XSUB port, SUB on XPUB, CURVE with a key
    file of the mesh (admin.key by default). Requests carry the user/role the test chooses.
    Use from one thread only (zmq sockets are not thread-safe)."""

    def __init__(self, mesh, key_file=None, port=None, host=None, ready_timeout=30,
                 hwm=None):
        keys = read_key_file(key_file or mesh.path("admin.key"))
        port = port or mesh.base_port
        if host is None:
            host = mesh.broker_host_of_port(port) if hasattr(mesh, "broker_host_of_port") \
                else "127.0.0.1"
        super().__init__(broker_public_key(mesh), keys["public-key"], keys["secret-key"],
                         [("tcp://%s:%d" % (host, port), "tcp://%s:%d" % (host, port + 1))],
                         "flt-" + uuid.uuid4().hex[:12], hwm=hwm)
        self.wait_ready(ready_timeout)

    def wait_ready(self, timeout):
        """Publishes probes on our own reply topic until one comes back."""
        if not self.wait_probe(scaled(timeout)):
            raise AssertionError("bus client %s never saw its own probe" % self.client_id)

    def request(self, action, body, user="admin", role="admin", rid=None, attempt=0,
                deadline_s=30):
        return {"v": 1, "id": rid or uuid.uuid4().hex, "attempt": attempt, "action": action,
                "from": self.client_id, "reply_to": self.reply_topic, "user": user, "role": role,
                "deadline": int((time.time() + deadline_s) * 1000), "body": body}

    def send(self, topic, env, timeout):
        """Publishes one request; returns its reply envelope or None after timeout seconds."""
        self.publish(topic, env)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            m = self.receive(left)
            if m and m[1].get("re") == env["id"]:
                return m[1]

    def call(self, host, action, body, timeout=15, **kw):
        """One request to req/host/<host>/ (or req/any/ when host is None), no retry."""
        topic = "req/any/" if host is None else "req/host/%s/" % host
        return self.send(topic, self.request(action, body, **kw), scaled(timeout))

    def call_retrying(self, host, action, body, try_timeout=3, total=60, **kw):
        """Retries on timeout with the same id (attempt + 1), as every requester must (docs/architecture.md, "Bus behaviour").
        Returns (reply or None, attempts made)."""
        env = self.request(action, body, **kw)
        topic = "req/any/" if host is None else "req/host/%s/" % host
        end = time.monotonic() + scaled(total)
        attempt = 0
        while time.monotonic() < end:
            env["attempt"] = attempt
            reply = self.send(topic, env, scaled(try_timeout))
            if reply is not None:
                return reply, attempt + 1
            attempt += 1
        return None, attempt

# ---------------------------------------------------------------------------- observations

def hosts(mesh, timeout_ms=3000):
    """{fqdn: host record} from `dockmeshctl hosts`, or None if the broker did not answer."""
    rc, out = mesh.ctl("--timeout", timeout_ms, "hosts", timeout=30 * SLOW)
    if rc != 0 or not isinstance(out, dict):
        return None
    return {h["fqdn"]: h for h in out.get("hosts", [])}


def host_status(mesh, fqdn):
    h = (hosts(mesh) or {}).get(fqdn)
    return h.get("status") if h else None


def directory_containers(mesh, timeout_ms=3000):
    """{id: entry} from `dockmeshctl containers`, or None."""
    rc, out = mesh.ctl("--timeout", timeout_ms, "containers", timeout=30 * SLOW)
    if rc != 0 or not isinstance(out, dict):
        return None
    return {c["id"]: c for c in out.get("containers", [])}


def docker_containers(mesh, i, label=None):
    """Containers on host i's dockerd (Docker's list entries), optionally filtered by label."""
    path = "/containers/json?all=1"
    if label:
        path += "&filters=" + json.dumps({"label": [label]}).replace(" ", "")
    status, items = mesh.docker(i, "GET", path)
    assert status == 200, (status, items)
    return items


def stable_host_view(h):
    """The fields of a host record that must survive a broker restart unchanged."""
    keep = ("fqdn", "labels", "incarnation", "cpus", "memory_bytes", "docker_version", "status")
    return {k: h.get(k) for k in keep}


def stable_container_view(c):
    keep = ("id", "host", "name", "image", "owner")
    return {k: c.get(k) for k in keep}


class Stopwatch:
    def __init__(self):
        self.t0 = time.monotonic()

    def elapsed(self):
        return time.monotonic() - self.t0


class LoadThread(threading.Thread):
    """Steady request load from its own Bus: calls fn(bus, n) for n = 0, 1, ... until stop()
    or `limit` calls; fn returns a record kept in self.results."""

    def __init__(self, mesh, fn, limit=1000, pause=0.05):
        super().__init__(daemon=True)
        self.mesh, self.fn, self.limit, self.pause = mesh, fn, limit, pause
        self.results = []
        self.errors = []
        self._halt = threading.Event()

    def run(self):
        bus = Bus(self.mesh)
        try:
            for n in range(self.limit):
                if self._halt.is_set():
                    break
                try:
                    self.results.append(self.fn(bus, n))
                except Exception as e:  # recorded, and the test fails on it
                    self.errors.append(repr(e))
                    break
                self._halt.wait(self.pause)
        finally:
            bus.close()

    def stop(self, timeout=120):
        self._halt.set()
        self.join(scaled(timeout))
        assert not self.is_alive(), "load thread did not finish"
