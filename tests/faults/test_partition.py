"""Fault: a network partition between an agent (with its dockerd) and the broker, then healed.

The test builds its own small mesh: a network namespace it creates (`ip netns add`) holds
host1's dockerd and agent; a veth pair whose two addresses exist only on that pair joins it to
the root namespace, where the broker listens on the pair's root-side address. Cutting the link
(`ip link set <root end> down`) partitions the agent; setting it up heals it. No traffic leaves
the pair or loopback. Namespaces, links and processes are removed whatever happens.

Promised: the partitioned host goes `down` (within 3.5 s of its last heartbeat) and `up` again
after the link returns; nothing is lost: the containers are intact, a request that timed out
during the partition is retried with the same id to exactly one effect, and what happened on
the host during the partition (a container stopped) reaches the directory after the heal.
"""

import ipaddress
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (BUILD_DIR, IMAGE, Bus, alive, directory_containers, host_status,  # noqa: E402
                      scaled, wait_for)
from dmtest import unix_http  # noqa: E402 (tests/integration, on the path through faultlib)
from meshlib import PORT_HIGH, PORT_LOW  # noqa: E402

H1 = "host1.mesh.test"
BIN = os.path.join(BUILD_DIR, "bin")


def run(*argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(argv), r.stderr.strip()))
    return r


def free_pair_network():
    """A /30 from 10.254.0.0/16 that no route or address of this machine overlaps."""
    routes = json.loads(run("ip", "-j", "route").stdout or "[]")
    addrs = json.loads(run("ip", "-j", "addr").stdout or "[]")
    used = [ipaddress.ip_network(r["dst"], strict=False) for r in routes if r["dst"] != "default"]
    for a in addrs:
        for i in a.get("addr_info", []):
            if i.get("family") == "inet":
                used.append(ipaddress.ip_network("%s/%s" % (i["local"], i["prefixlen"]), strict=False))
    for _ in range(100):
        net = ipaddress.ip_network("10.254.%d.%d/30" % (random.randrange(256), 4 * random.randrange(64)))
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free /30 for the veth pair")


class PartitionMesh:
    """Broker in the root namespace on the veth address; host1's dockerd + agent in a netns.
    Offers what faultlib's helpers use from meshlib.Mesh: path, ctl, ctl_argv, docker, pid,
    base_port."""

    def __init__(self):
        tag = "%06x" % random.randrange(1 << 24)
        self.netns = "dmp" + tag
        self.veth_root, self.veth_ns = "dmp%sa" % tag, "dmp%sb" % tag
        net = free_pair_network()
        self.root_ip, self.ns_ip = str(net[1]), str(net[2])
        self.prefix = net.prefixlen
        self.dir = tempfile.mkdtemp(prefix="dmp", dir="/tmp")
        self.base_port = random.randrange(PORT_LOW, PORT_HIGH, 10)  # below the ephemeral range
        self.procs = {}
        self.last_stderr = ""

    # -------------------------------------------------------------- what faultlib expects
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def pid(self, name):
        p = self.procs.get(name)
        return p.pid if p else None

    def ctl_argv(self, *args):
        return [os.path.join(BIN, "dockmeshctl"), "--config", self.path("dockmeshctl.conf")] + \
            [str(a) for a in args]

    def ctl(self, *args, timeout=60):
        r = subprocess.run(self.ctl_argv(*args), capture_output=True, text=True, timeout=timeout)
        self.last_stderr = r.stderr
        try:
            return r.returncode, json.loads(r.stdout)
        except ValueError:
            return r.returncode, r.stdout

    def docker(self, i, method, path, body=None, timeout=30):
        return unix_http.call_json(self.path("host1", "docker.sock"), method, path, body, timeout)

    # -------------------------------------------------------------- set-up
    def up(self):
        run("ip", "netns", "add", self.netns)
        run("ip", "link", "add", self.veth_root, "type", "veth", "peer", "name", self.veth_ns)
        run("ip", "link", "set", self.veth_ns, "netns", self.netns)
        run("ip", "addr", "add", "%s/%d" % (self.root_ip, self.prefix), "dev", self.veth_root)
        run("ip", "link", "set", self.veth_root, "up")
        self.in_ns("ip", "addr", "add", "%s/%d" % (self.ns_ip, self.prefix), "dev", self.veth_ns)
        self.in_ns("ip", "link", "set", self.veth_ns, "up")
        self.in_ns("ip", "link", "set", "lo", "up")
        os.makedirs(self.path("logs"))
        os.makedirs(self.path("host1", "data"))
        os.makedirs(self.path("host1", "exec"))
        self.make_keys()
        self.start("broker", [os.path.join(BIN, "dockmesh-broker"), "--data-dir", self.path("broker"),
                              "--server-key", self.path("broker.key"),
                              "--authorized-keys", self.path("authorized_keys"),
                              "--xsub-endpoint", "tcp://%s:%d" % (self.root_ip, self.base_port),
                              "--xpub-endpoint", "tcp://%s:%d" % (self.root_ip, self.base_port + 1),
                              "--router-endpoint", "tcp://%s:%d" % (self.root_ip, self.base_port + 2)])
        self.start("dockerd", ["dockerd", "--host", "unix://" + self.path("host1", "docker.sock"),
                               "--data-root", self.path("host1", "data"),
                               "--exec-root", self.path("host1", "exec"),
                               "--pidfile", self.path("host1", "dockerd.pid"), "--bridge=none",
                               "--iptables=false", "--ip-masq=false",
                               "--containerd-namespace", self.netns,
                               "--containerd-plugins-namespace", self.netns + "p"], netns=True)
        wait_for(lambda: self.docker_ok() or self.procs["dockerd"].poll() is not None, scaled(60),
                 message="dockerd in the namespace")
        assert self.procs["dockerd"].poll() is None, "dockerd exited; see its log"
        self.import_busybox()
        self.start("agent", [os.path.join(BIN, "dockmesh-agent"), "--fqdn", H1,
                             "--docker-socket", self.path("host1", "docker.sock"),
                             "--broker", "%s:%d" % (self.root_ip, self.base_port),
                             "--broker-key", self.broker_pub, "--key", self.path("agent.key")],
                   netns=True)
        wait_for(lambda: host_status(self, H1) == "up" or self.procs["agent"].poll() is not None,
                 scaled(30), message="host1 up")
        assert self.procs["agent"].poll() is None, "the agent exited; see its log"
        return self

    def in_ns(self, *argv):
        return run("ip", "netns", "exec", self.netns, *argv)

    def keygen(self, name):
        out = run(os.path.join(BIN, "dockmeshctl"), "keygen", "--out", self.path(name)).stdout
        return out.strip().splitlines()[-1].split()[-1]

    def make_keys(self):
        self.broker_pub = self.keygen("broker.key")
        with open(self.path("broker.pub"), "w") as f:
            f.write("public-key = %s\n" % self.broker_pub)
        agent, admin = self.keygen("agent.key"), self.keygen("admin.key")
        with open(self.path("authorized_keys"), "w") as f:
            f.write("agent %s %s\nadmin admin %s\n" % (H1, agent, admin))
        with open(self.path("dockmeshctl.conf"), "w") as f:
            f.write("broker = %s:%d\nbroker-key = %s\nkey = %s\n"
                    % (self.root_ip, self.base_port, self.path("broker.pub"), self.path("admin.key")))

    def start(self, name, argv, netns=False):
        # nsenter switches only the network namespace; `ip netns exec` would also remount /sys,
        # hiding the cgroup mounts dockerd needs.
        if netns:
            argv = ["nsenter", "--net=/var/run/netns/" + self.netns] + argv
        with open(self.path("logs", name + ".log"), "ab") as log:
            self.procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True)

    def docker_ok(self):
        try:
            return self.docker(1, "GET", "/_ping", timeout=2)[0] == 200
        except OSError:
            return False

    def import_busybox(self):
        root = self.path("rootfs")
        os.makedirs(os.path.join(root, "bin"))
        shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
        for applet in ("sh", "sleep"):
            os.symlink("busybox", os.path.join(root, "bin", applet))
        tar = self.path("busybox.tar")
        with tarfile.open(tar, "w") as t:
            t.add(root, arcname=".")
        with open(tar, "rb") as f:
            status, _ = unix_http.call_raw(self.path("host1", "docker.sock"), "POST",
                                           "/images/create?fromSrc=-&repo=local/busybox&tag=latest",
                                           f, {"Content-Type": "application/x-tar"}, 120)
        assert status == 200, status

    # -------------------------------------------------------------- faults
    def cut(self):
        run("ip", "link", "set", self.veth_root, "down")

    def heal(self):
        run("ip", "link", "set", self.veth_root, "up")

    # -------------------------------------------------------------- tear-down (always)
    def down(self):
        if self.docker_ok():
            try:
                for c in self.docker(1, "GET", "/containers/json?all=1")[1]:
                    self.docker(1, "DELETE", "/containers/%s?force=1" % c["Id"])
            except (OSError, TypeError, KeyError):
                pass
        for name in ("agent", "dockerd", "broker"):
            p = self.procs.get(name)
            if p and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
        self.kill_leftovers()
        run("ip", "netns", "del", self.netns, check=False)  # takes the veth pair with it
        run("ip", "link", "del", self.veth_root, check=False)
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f if line.split()[1].startswith(self.dir + "/")]
        for m in sorted(mounts, reverse=True):
            run("umount", "-l", m, check=False)
        if os.environ.get("DM_KEEP_MESH") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def kill_leftovers(self):
        """containerd and shims our dockerd started (their command lines name our directory)."""
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if (self.dir + "/") in cmd and alive(int(p)):
                try:
                    os.kill(int(p), signal.SIGKILL)
                except OSError:
                    pass

    def dump_logs(self):
        for name in sorted(os.listdir(self.path("logs"))):
            with open(self.path("logs", name), errors="replace") as f:
                sys.stderr.write("----- %s\n%s" % (name, "".join(f.readlines()[-30:])))


def wait_dir_event(bus, action, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = bus.receive(end - time.monotonic())
        if m and m[0] == "dir/" and m[1].get("action") == action and \
                (m[1].get("body") or {}).get("fqdn") == H1:
            return time.monotonic()
    return None


class PartitionTest(unittest.TestCase):
    def test_partition_and_heal(self):
        # Root and network namespaces are part of the test machine (scripts/deps.sh; CI runs as root): without
        # them this test fails rather than pass having checked nothing.
        self.assertEqual(os.geteuid(), 0, "the partition test needs root for ip netns")
        mesh = PartitionMesh()
        probe = run("ip", "netns", "add", mesh.netns, check=False)
        if probe.returncode != 0:
            shutil.rmtree(mesh.dir, ignore_errors=True)
            self.fail("cannot create a network namespace here: " + probe.stderr.strip())
        run("ip", "netns", "del", mesh.netns, check=False)
        try:
            mesh.up()
        except Exception:
            mesh.dump_logs() if os.path.isdir(mesh.path("logs")) else None
            mesh.down()
            raise
        try:
            self.check(mesh)
        except BaseException:
            mesh.dump_logs()
            raise
        finally:
            mesh.down()

    def check(self, mesh):
        bus = Bus(mesh, host=mesh.root_ip)
        cmd = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
        ids = {}
        for name in ("p1", "p2"):
            r = bus.call(H1, "create-container", {"image": IMAGE, "cmd": cmd, "name": name},
                         user="alice", role="user")
            self.assertEqual(r and r["code"], 201, r)
            ids[name] = r["body"]["id"]
        wait_for(lambda: set(ids.values()) <= set(directory_containers(mesh) or {}), scaled(15),
                 message="containers in the directory")

        bus.subscribe("dir/")
        mesh.cut()
        cut_at = time.monotonic()
        down_at = wait_dir_event(bus, "host-down", scaled(10))
        self.assertIsNotNone(down_at, "partitioned host never went down")
        sys.stderr.write("host-down %.2f s after the cut\n" % (down_at - cut_at))
        self.assertLessEqual(down_at - cut_at, scaled(4.5))  # 3.5 s after its last heartbeat
        # During the partition: the broker refuses a request for the host it knows is down (503
        # naming it, fail fast; nothing reaches the host); something happens on the host.
        create = bus.request("create-container", {"image": IMAGE, "cmd": cmd, "name": "p3"},
                             user="alice", role="user", deadline_s=120)
        refused = bus.send("req/host/%s/" % H1, create, 2)
        self.assertIsNotNone(refused, "no answer for a host the directory knows is down")
        self.assertEqual(refused["code"], 503, refused)
        self.assertIn(H1, refused["error"]["message"])
        status, _ = mesh.docker(1, "POST", "/containers/p1/stop?t=5")
        self.assertIn(status, (204, 304))

        mesh.heal()
        healed_at = time.monotonic()
        up_at = wait_dir_event(bus, "host-up", scaled(60))
        self.assertIsNotNone(up_at, "host never came back up after the heal")
        sys.stderr.write("host-up %.2f s after the heal\n" % (up_at - healed_at))

        # The retry of the refused request: same id, next attempt: exactly one container.
        create["attempt"] = 1
        r = bus.send("req/host/%s/" % H1, create, scaled(20))
        self.assertIn(r and r["code"], (200, 201), r)
        status, items = mesh.docker(1, "GET", "/containers/json?all=1")
        names = sorted(c["Names"][0] for c in items)
        self.assertEqual(names, ["/p1", "/p2", "/p3"])
        # What happened during the partition reached the directory.
        wait_for(lambda: (directory_containers(mesh) or {}).get(ids["p1"], {}).get("state") == "exited",
                 scaled(20), message="p1 shown exited in the directory")
        d = directory_containers(mesh)
        self.assertEqual(d[ids["p2"]]["state"], "running")
        self.assertEqual({d[i]["owner"] for i in ids.values()}, {"alice"})
        bus.close()


if __name__ == "__main__":
    unittest.main()
