"""meshlib: a real throw-away dockmesh for integration tests.

    with Mesh(hosts=2, labels={1: {"zone": "a"}}) as mesh:
        rc, hosts = mesh.ctl("hosts")
        status, containers = mesh.docker(1, "GET", "/containers/json?all=1")

Mesh starts scripts/mesh.sh in a fresh short directory under /tmp on free loopback ports, and
always runs `mesh.sh down` (and removes the directory) on the way out. When the block fails, the
tails of the mesh's logs are printed. DM_KEEP_MESH=1 keeps the directory for a post-mortem.
The build and source trees come from DM_BUILD_DIR / DM_SOURCE_DIR (set by tests/CMakeLists.txt),
else from this file's location.
"""

import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import bus_check
from dmtest import unix_http

SOURCE_DIR = os.environ.get(
    "DM_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.environ.get("DM_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
MESH_SH = os.path.join(SOURCE_DIR, "scripts", "mesh.sh")
CTL = os.path.join(BUILD_DIR, "bin", "dockmeshctl")
# Sanitized daemons are slower (scripts/sanitize.sh sets 2): every wait_for deadline is scaled.
SLOW = float(os.environ.get("DM_SLOW_FACTOR", "1") or 1)


def wait_for(predicate, timeout=10.0, interval=0.05, message="condition"):
    """Polls predicate() until it returns something truthy (which is returned) or timeout
    seconds pass (AssertionError naming `message`, with the last value seen). The timeout is
    multiplied by DM_SLOW_FACTOR."""
    timeout *= SLOW
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s; last value: %r"
                                 % (timeout, message, last))
        time.sleep(interval)


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _ephemeral_low():
    """The first port the kernel hands out as a connection's local port."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Meshes listen below the ephemeral range: a port in it can be taken, while a restarted daemon is
# down, as the local port of some outgoing connection (or a client reconnecting to that very port
# can connect to itself), and the daemon then cannot bind it again.
PORT_LOW, PORT_HIGH = 10000, min(_ephemeral_low(), 32768) - 100


def mesh_ports(base, brokers=1):
    """The ports mesh.sh up takes from base port `base`: P, P+1, P+2 (broker) and P+10
    (bridge); with several brokers P..P+17 (brokers, bridge, etcd)."""
    return [base + k for k in ((0, 1, 2, 10) if brokers == 1 else range(0, 18))]


def free_base_port(brokers=1, avoid=()):
    """A base port whose mesh_ports are free on 127.0.0.1 and not among `avoid` (ports already
    promised to something not listening yet, such as a --docker-api-port)."""
    for _ in range(200):
        p = random.randrange(PORT_LOW, PORT_HIGH, 20)
        ports = mesh_ports(p, brokers)
        if not set(ports) & set(avoid) and all(_port_free(q) for q in ports):
            return p
    raise RuntimeError("no free port range found on 127.0.0.1")


def free_port_range(count, avoid=()):
    """A port P with P..P+count-1 free on 127.0.0.1 (e.g. mesh.sh --metrics-port) and none of
    them among `avoid`."""
    for _ in range(200):
        p = random.randrange(PORT_LOW, PORT_HIGH, 10)
        ports = range(p, p + count)
        if not set(ports) & set(avoid) and all(_port_free(q) for q in ports):
            return p
    raise RuntimeError("no free port range found on 127.0.0.1")


def _parse(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


class Watch:
    """`dockmeshctl watch PREFIX` in the background; lines() are parsed JSON messages."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self._lines = queue.Queue()
        self.stderr = []
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines), daemon=True),
            threading.Thread(target=self._pump_err, daemon=True)]
        for t in self._threads:
            t.start()
        self._wait_subscribed(timeout=20.0)

    def _wait_subscribed(self, timeout):
        """Until dockmeshctl says it is watching: its subscription has then reached a broker
        (it prints the line after its readiness probe came back), so nothing published from now
        on can be missed."""
        deadline = time.monotonic() + timeout
        while not any("watching" in line for line in list(self.stderr)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("dockmeshctl watch did not become ready: %s"
                                     % "".join(self.stderr).strip())
            time.sleep(0.02)

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line)

    def _pump_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def next(self, predicate=lambda m: True, timeout=10.0):
        """The next message for which predicate(message) holds; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("watch saw no matching message in %.1fs (stderr: %s)"
                                     % (timeout, "".join(self.stderr).strip()))
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            msg = json.loads(line)
            if predicate(msg):
                return msg

    def drain(self):
        """Every message received and not yet taken by next(), parsed (after stop(): all)."""
        out = []
        while True:
            try:
                out.append(json.loads(self._lines.get_nowait()))
            except queue.Empty:
                return out

    def stop(self):
        """SIGINT, then the exit code (SIGKILL after 10 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._threads:
            t.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


class Mesh:
    """check_bus: every reply and dir/ event seen on the bus while the mesh is up must validate
    against its schema (bus_check.py); down() fails the test otherwise."""

    def __init__(self, hosts=2, labels=None, bridge=True, timeout=90, brokers=1, metrics=False,
                 docker_api_port=None, check_bus=True, bridge_args=None, broker_netns=None):
        self.hosts = hosts
        self.broker_netns = broker_netns  # broker i in a network namespace (mesh.sh --broker-netns)
        self.metrics = metrics  # every daemon serves /metrics (mesh.sh --metrics-port)
        self.docker_api_port = docker_api_port
        self.bridge_args = list(bridge_args or [])  # extra dockmesh-bridge arguments
        self.brokers = brokers
        self.labels = labels or {}
        self.bridge = bridge
        self.timeout = timeout
        self.dir = None
        self.base_port = None
        self.last_stderr = ""
        self._watches = []
        self.check_bus = check_bus
        self._bus_watch = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self):
        self.up()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.dump_logs()
        # A failing block's own error is the one to see; the bus check adds to a passing one.
        self.down(check=exc_type is None)
        return False

    def up(self):
        self.dir = tempfile.mkdtemp(prefix="dm", dir="/tmp")
        # Ports chosen here are not bound until mesh.sh starts the daemons: none may be chosen
        # twice (a --docker-api-port equal to the bridge's P+10 failed a CI-like run once).
        promised = [self.docker_api_port] if self.docker_api_port else []
        self.base_port = free_base_port(self.brokers, avoid=promised)
        promised += mesh_ports(self.base_port, self.brokers)
        argv = [MESH_SH, "up", "--hosts", str(self.hosts), "--brokers", str(self.brokers),
                "--dir", self.dir,
                "--base-port", str(self.base_port), "--build-dir", BUILD_DIR,
                "--timeout", str(self.timeout)]
        for i, labels in sorted(self.labels.items()):
            for k, v in sorted(labels.items()):
                argv += ["--label", "host%d:%s=%s" % (i, k, v)]
        if not self.bridge:
            argv.append("--no-bridge")
        if self.metrics:
            argv += ["--metrics-port", str(free_port_range(4 + self.hosts, avoid=promised))]
        if self.docker_api_port:
            argv += ["--docker-api-port", str(self.docker_api_port)]
        for a in self.bridge_args:
            argv += ["--bridge-arg", a]
        if self.broker_netns:
            argv += ["--broker-netns", str(self.broker_netns)]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout * 3)
        if r.returncode != 0:
            sys.stderr.write("mesh.sh up failed (rc %d):\n%s\n%s\n" % (r.returncode, r.stdout, r.stderr))
            self.dump_logs()
            self.down()
            raise RuntimeError("mesh.sh up failed: " + (r.stderr.strip().splitlines() or ["?"])[-1])
        if self.check_bus:
            try:
                self._bus_watch = Watch(self.ctl_argv("watch"))
            except BaseException:
                self.down(check=False)
                raise
        return self

    def _finish_bus_check(self):
        """Stops the bus watch; the violations found (a list of texts)."""
        w, self._bus_watch = self._bus_watch, None
        if w is None:
            return []
        w.stop()
        check = bus_check.BusCheck(bus_check.load_catalogue(CTL))
        for msg in w.drain():
            check.see(msg)
        sys.stderr.write(check.report() + "\n")
        return check.violations

    def down(self, check=True):
        """Runs `mesh.sh down`; returns its CompletedProcess. Safe to call twice. With check (and
        check_bus), raises AssertionError afterwards if a bus message broke its schema."""
        violations = self._finish_bus_check()
        for w in self._watches:
            w.stop()
        self._watches = []
        if self.dir is None:
            return None
        r = subprocess.run([MESH_SH, "down", "--dir", self.dir], capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            sys.stderr.write("mesh.sh down failed (rc %d):\n%s\n" % (r.returncode, r.stderr))
        if os.environ.get("DM_KEEP_MESH") == "1":
            sys.stderr.write("DM_KEEP_MESH=1: keeping %s\n" % self.dir)
        elif r.returncode == 0:
            shutil.rmtree(self.dir, ignore_errors=True)
        if violations and check:
            raise AssertionError("%d bus message(s) broke their schema:\n  %s"
                                 % (len(violations), "\n  ".join(violations[:10])))
        return r

    def dump_logs(self, lines=40):
        logs = os.path.join(self.dir or "", "logs")
        if not self.dir or not os.path.isdir(logs):
            return
        for name in sorted(os.listdir(logs)):
            with open(os.path.join(logs, name), errors="replace") as f:
                tail = f.readlines()[-lines:]
            sys.stderr.write("----- %s (last %d lines)\n%s" % (name, len(tail), "".join(tail)))

    # ------------------------------------------------------------------ names and files

    def fqdn(self, i):
        return "host%d.mesh.test" % i

    def broker_port(self, i):
        """Broker i's XSUB port (1-based; mesh.sh --brokers puts broker i at P+3(i-1))."""
        return self.base_port + 3 * (i - 1)

    def broker_host(self, i):
        """The address broker i is reached on: its namespace's with broker_netns, else loopback."""
        if self.broker_netns == i:
            with open(self.path("netns")) as f:
                return f.read().split()[2]
        return "127.0.0.1"

    def broker_host_of_port(self, port):
        """broker_host of the broker whose XSUB port is `port`."""
        return self.broker_host((port - self.base_port) // 3 + 1)

    def partition(self, heal=False):
        """Cuts the broker of broker_netns off from everything (mesh.sh partition), or joins it
        again (heal=True)."""
        subprocess.run([MESH_SH, "heal" if heal else "partition", "--dir", self.dir], check=True,
                       capture_output=True, timeout=30)

    def broker_name(self, i):
        return "broker" if i == 1 else "broker%d" % i

    def socket_path(self, i):
        return os.path.join(self.dir, "host%d" % i, "docker.sock")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def metrics_targets(self):
        """[(job, "127.0.0.1:port")] of every daemon's /metrics (Mesh(metrics=True))."""
        with open(self.path("metrics.targets")) as f:
            return [tuple(line.split()) for line in f if line.strip()]

    def pid(self, name):
        """The pid mesh.sh recorded for `name` (e.g. "broker", "agent-host1"), or None."""
        try:
            with open(self.path("pids", name + ".pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def processes(self):
        """Live (non-zombie) processes whose command line mentions this mesh's directory, apart
        from this harness's own `dockmeshctl watch` clients."""
        found = []
        own = {w.proc.pid for w in self._watches + [self._bus_watch] if w is not None}
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) == os.getpid() or int(p) in own:
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
                with open("/proc/%s/stat" % p) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state not in ("Z", "X") and (self.dir + "/") in cmd:
                found.append((int(p), cmd.strip()))
        return found

    # ------------------------------------------------------------------ clients

    def ctl_argv(self, *args):
        return [CTL, "--config", self.path("dockmeshctl.conf")] + [str(a) for a in args]

    def ctl(self, *args, timeout=60, input=None):
        """Runs dockmeshctl against this mesh: (exit code, parsed JSON stdout or its text).
        stderr is kept in self.last_stderr."""
        r = subprocess.run(self.ctl_argv(*args), capture_output=True, text=True, timeout=timeout,
                           input=input)
        self.last_stderr = r.stderr
        return r.returncode, _parse(r.stdout)

    def send(self, message, *args, timeout=60):
        """dockmeshctl send with a dict message: (exit code, reply envelope)."""
        return self.ctl("send", *args, json.dumps(message), timeout=timeout)

    def watch(self, prefix=""):
        w = Watch(self.ctl_argv("watch", prefix) if prefix else self.ctl_argv("watch"))
        self._watches.append(w)
        return w

    def docker(self, i, method, path, body=None, timeout=60):
        """One raw Docker Engine API call to host i's dockerd: (HTTP status, parsed JSON or
        text)."""
        return unix_http.call_json(self.socket_path(i), method, path, body, timeout)

    def container_ids(self, i):
        """Full ids of every container (running or not) on host i's dockerd."""
        status, items = self.docker(i, "GET", "/containers/json?all=1")
        assert status == 200, (status, items)
        return {c["Id"] for c in items}
