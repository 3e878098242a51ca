"""bridgelib: clients for dockmesh-bridge integration tests, Python stdlib only.

    with Mesh(hosts=2) as mesh:
        admin = Bridge.admin(mesh)                 # logged in as admin (DIR/admin.password)
        alice = admin.make_user("alice")           # created through the API, logged in
        status, body = alice.post("/api/v1/messages", {"action": "ping", "host": mesh.fqdn(1)})
        ws = alice.websocket()                     # authenticated WebSocket on /api/v1/ws
        admin, alice, bob, alice_id, bob_id = two_users(mesh)   # ownership tests' setup

Also: a docker-registry on a free loopback port (for pull-image), and HS256 helpers to forge
tokens with the bridge's own key (DIR/bridge/jwt.key), for expiry tests.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request

from dmtest import unix_http
from dmtest.process import stop_child
from meshlib import free_port_range, wait_for


def read_text(path):
    with open(path) as f:
        return f.read().strip()


def admin_password(mesh):
    return read_text(mesh.path("admin.password"))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.text = body.decode(errors="replace")
        try:
            self.json = json.loads(self.text) if self.text else None
        except ValueError:
            self.json = None

    def header(self, name):
        return self.headers.get(name.lower())

    def error(self):
        """(code, message) of a {"error": {...}} body, else (None, None)."""
        e = (self.json or {}).get("error") if isinstance(self.json, dict) else None
        return (e.get("code"), e.get("message")) if isinstance(e, dict) else (None, None)

    def __repr__(self):
        return "<%d %s>" % (self.status, self.text[:300])


class Bridge:
    """One user's HTTP client for the bridge (a fresh connection per call)."""

    def __init__(self, mesh, token=None, user=None):
        self.mesh = mesh
        url = read_text(mesh.path("bridge.url"))
        p = urllib.parse.urlparse(url)
        self.host, self.port = p.hostname, p.port
        self.token = token
        self.user = user

    @classmethod
    def admin(cls, mesh):
        b = cls(mesh)
        b.login("admin", admin_password(mesh))
        return b

    def request(self, method, path, body=None, token=None, headers=None, raw=None, timeout=60):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            h = dict(headers or {})
            tok = self.token if token is None else token
            if tok:
                h["Authorization"] = "Bearer " + tok
            data = raw
            if body is not None:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def send(self, message, **kw):
        return self.post("/api/v1/messages", message, **kw)

    def login(self, user, password):
        r = self.post("/api/v1/login", {"username": user, "password": password}, token="")
        assert r.status == 200, r
        self.token, self.user = r.json["token"], user
        return r

    def make_user(self, name, role="user", password=None):
        """Creates a user (self must be admin) and returns a Bridge logged in as them."""
        password = password or (name + "-password-1")
        r = self.post("/api/v1/users", {"name": name, "role": role, "password": password})
        assert r.status == 201, r
        other = Bridge(self.mesh)
        other.login(name, password)
        return other

    def wait_job(self, job_id, timeout=120):
        """Polls GET /api/v1/jobs/{id} until it is no longer running: the final Response
        (303 when it names a created container)."""
        def done():
            r = self.get("/api/v1/jobs/" + job_id)
            if r.status == 200 and r.json.get("state") == "running":
                return None
            return r
        return wait_for(done, timeout=timeout, interval=0.2, message="job " + job_id)

    def create(self, body, timeout=120):
        """POST /api/v1/containers and wait for the job: (accepted Response, final Response)."""
        r = self.post("/api/v1/containers", body)
        assert r.status == 202, r
        return r, self.wait_job(r.json["id"], timeout)

    def websocket(self, authenticate=True):
        ws = WebSocket(self.host, self.port, "/api/v1/ws")
        if authenticate:
            ws.send({"type": "auth", "token": self.token})
            hello = ws.next(lambda f: f.get("type") in ("hello", "error"))
            assert hello.get("type") == "hello", hello
        return ws


IMAGE = "local/busybox:latest"


def two_users(mesh):
    """The setup of every ownership test: the admin and two plain users, Alice and Bob, each
    logged in, with their immutable ids: (admin, alice, bob, alice_id, bob_id)."""
    admin = Bridge.admin(mesh)
    alice = admin.make_user("alice")
    bob = admin.make_user("bob")
    return (admin, alice, bob, alice.get("/api/v1/whoami").json["id"],
            bob.get("/api/v1/whoami").json["id"])


def create_message(host, name=None, cmd=("sleep", "300"), **extra):
    """A create-container message for /api/v1/messages: busybox running `cmd`, no network."""
    body = {"action": "create-container", "host": host, "image": IMAGE, "cmd": list(cmd),
            "network_mode": "none"}
    if name:
        body["name"] = name
    body.update(extra)
    return body


class WebSocket:
    """A minimal WebSocket client: text frames only, enough to talk JSON to the bridge."""

    def __init__(self, host, port, path, headers=None, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port), "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("connection closed during the WebSocket handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])
        if self.status != 101:
            raise ConnectionError("WebSocket upgrade refused: " + head.decode(errors="replace"))
        self.closed = None  # (code, reason) once the server closed

    def send(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("WebSocket closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        """The next text frame as JSON; None when the server closed (see self.closed)."""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            data = self._read(n)
            op = b0 & 0x0F
            if op == 0x8:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                self.closed = (code, data[2:].decode(errors="replace"))
                return None
            if op == 0x9:  # ping: answer with a pong
                mask = os.urandom(4)
                self.sock.sendall(bytes([0x8A, 0x80 | len(data)]) + mask +
                                  bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
                continue
            if op == 0x1:
                return json.loads(data.decode())

    def next(self, predicate=lambda f: True, timeout=15.0):
        """The next frame for which predicate holds; AssertionError on timeout or close."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching WebSocket frame within %.1fs" % timeout)
            self.sock.settimeout(left)
            try:
                f = self.frame()
            except socket.timeout:
                continue
            if f is None:
                raise AssertionError("WebSocket closed: %r" % (self.closed,))
            if predicate(f):
                return f

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------- tokens

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_claims(token):
    return json.loads(b64url_decode(token.split(".")[1]))


def sign_jwt(key, claims):
    """An HS256 JWT over `claims`, as the bridge makes them."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = hmac.new(key, (head + "." + body).encode(), hashlib.sha256).digest()
    return head + "." + body + "." + b64url(sig)


def bridge_key(mesh):
    with open(mesh.path("bridge", "jwt.key"), "rb") as f:
        return f.read()


# ---------------------------------------------------------------------- registry

def free_port():
    """A free port below the ephemeral range (meshlib.PORT_LOW..PORT_HIGH): a bridge restarted on
    it finds it still free."""
    return free_port_range(1)
    raise RuntimeError("no free port")


class LocalRegistry:
    """Debian's docker-registry on 127.0.0.1:<free port>, storage in the mesh directory. Docker
    treats 127.0.0.0/8 registries as insecure (plain HTTP) by default."""

    def __init__(self, mesh):
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        root = mesh.path("registry")
        os.makedirs(root, exist_ok=True)
        config = os.path.join(root, "config.yml")
        with open(config, "w") as f:
            f.write("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
                    "    rootdirectory: %s/data\n  delete:\n    enabled: true\n"
                    "http:\n  addr: %s\n" % (root, self.address))
        self.log = open(mesh.path("logs", "registry.log"), "ab")
        self.proc = subprocess.Popen(["docker-registry", "serve", config], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def up():
            try:
                with urllib.request.urlopen("http://%s/v2/" % self.address, timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False
        wait_for(up, timeout=30, message="docker-registry on " + self.address)

    def push_from(self, mesh, i, local_image, name):
        """Tags host i's `local_image` as <registry>/<name>:latest, pushes it, and removes the
        tag from host i again. Returns the pushed reference."""
        ref = "%s/%s" % (self.address, name)
        status, body = mesh.docker(i, "POST", "/images/%s/tag?repo=%s&tag=latest"
                                   % (local_image, urllib.parse.quote(ref, safe="")))
        assert status == 201, (status, body)
        status, raw = unix_http.call_raw(mesh.socket_path(i), "POST",
                                         "/images/%s/push?tag=latest" % ref,
                                         headers={"X-Registry-Auth": b64url(b"{}")}, timeout=120)
        out = raw.decode(errors="replace")
        assert status == 200 and '"error"' not in out, (status, out[-500:])
        status, body = mesh.docker(i, "DELETE", "/images/%s:latest" % ref)
        assert status == 200, (status, body)
        return ref + ":latest"

    def close(self):
        stop_child(self.proc)
        self.log.close()
