#!/usr/bin/python3
"""Writes the seed corpus of every fuzz target into corpus/<target>/seed-*, and the reproducers
of what fuzzing found into regressions/<target>/crash-*.

Seeds are small, valid (and a few nearly valid) inputs that show each fuzzer the shape of what it
parses, so that it reaches deep code within seconds. Re-running this script rewrites them; other
files (inputs saved by hand) are kept. Uses Debian's python3-msgpack.
"""
import base64
import hashlib
import hmac
import json
import os
import struct
import sys

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def write_crash(target, name, data):
    """A reproducer of a bug fuzzing found: replayed by CTest, not given to the fuzzer as a seed
    (so that an open bug does not stop every fuzzing run at its first input)."""
    d = os.path.join(HERE, "regressions", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "crash-" + name), "wb") as f:
        f.write(data)


def envelope_seeds():
    req = {"v": 1, "id": "0123456789abcdef0123456789abcdef", "action": "create-container",
           "from": "bridge-1a2b", "reply_to": "rep/bridge-1a2b/", "user": "alice", "role": "user",
           "deadline": 1700000000000, "attempt": 1,
           "body": {"image": "local/busybox:latest", "cmd": ["sleep", "60"], "instances": 2,
                    "labels": {"team": "blue"}, "memory": 67108864, "start": True, "cpu": 0.5,
                    "env": None}}
    write("envelope", "request", msgpack.packb(req))
    rep = {"v": 1, "id": "ffff", "re": "0123", "from": "host1.mesh.test", "code": 404,
           "error": {"code": "not_found", "message": "no such container"}}
    write("envelope", "error-reply", msgpack.packb(rep))
    write("envelope", "ok-reply", msgpack.packb({"v": 1, "id": "a", "re": "b", "code": 200,
                                                 "body": {"containers": [{"id": "c1"}]}}))
    write("envelope", "heartbeat", msgpack.packb({"v": 1, "id": "h", "action": "heartbeat",
                                                  "body": {"fqdn": "host1.mesh.test",
                                                           "incarnation": 1, "sequence": 2,
                                                           "memory_bytes": 2**40, "neg": -5}}))
    write("envelope", "deep", msgpack.packb({"v": 1, "id": "d", "body": {"a": {"b": {"c": [[[1]]]}}}}))
    write("envelope", "utf8", msgpack.packb({"v": 1, "id": "u", "user": "zoë", "body": {"ключ": "値"}}))
    write("envelope", "bin-body", msgpack.packb({"v": 1, "id": "b", "body": {"x": b"\x00\x01"}},
                                                use_bin_type=True))
    write("envelope", "wrong-version", msgpack.packb({"v": 2, "id": "x"}))
    write("envelope", "truncated", msgpack.packb(req)[:40])


def topic_seeds():
    pairs = [("req/host/a/", "req/host/ab/"), ("ann/", "dir/"), ("rep/ctl-1/", "rep/ctl-10/"),
             ("evt/host/host1.mesh.test/", "req/any/"), ("req/all/", "req/host/x_y-z.1/"),
             ("req/host//", "req/host/a/b/")]
    for i, (a, b) in enumerate(pairs):
        write("topic", "pair%d" % i, a.encode() + b"\0" + b.encode())


def grammar_seeds():
    cases = [
        (0, "3f4e1a2b"), (0, "/web-1"), (0, "../etc"), (1, "web_1.a-b"), (1, "a"),
        (2, "local/busybox:latest"), (2, "localhost:5000/busybox:latest"),
        (2, "registry.example:5000/a/b__c--d:v1.2@sha256:" + "a" * 64), (2, "UPPER/x"),
        (3, "com.example/role"), (4, "any text\twith tab"), (5, "PATH=/bin:/usr/bin"),
        (5, "1BAD=x"), (6, "sigkill"), (6, "9"), (6, "65"), (7, "0123abcd:req-1"),
        (8, "/data/x"), (8, "/a/../b"), (9, "/srv/data:/data:ro,rshared"), (9, "vol1:/data"),
        (9, "vol1:/data:"), (10, "1000:1000"), (11, "container:web"), (11, "none"),
        (12, "on-failure:3"), (13, "web.small"), (14, "--flag=value"),
        (15, "a b/c?d=e&f#g%h\u00e9"), (0, "é" * 40), (4, "é" * 2100),
    ]
    for i, (sel, v) in enumerate(cases):
        write("agent_grammar", "%02d" % i, bytes([sel]) + v.encode())


def demux_seeds():
    def frame(stream, payload):
        return struct.pack(">BxxxI", stream, len(payload)) + payload
    write("log_demux", "two-streams",
          bytes([16, 3]) + frame(1, b"hello\nworld\n") + frame(2, b"oops\n") + frame(3, b"daemon"))
    write("log_demux", "over-cap", bytes([2, 5]) + frame(1, b"line one\nline two\nline three\n" * 3))
    write("log_demux", "cut-mid-frame", bytes([40, 1]) + frame(1, b"abcdef")[:10])
    write("log_demux", "bad-header", bytes([40, 0]) + frame(1, b"ok") + b"\x07\0\0\0\0\0\0\x01z")
    write("log_demux", "empty-frames", bytes([1, 2]) + frame(1, b"") + frame(2, b"") + frame(0, b"in"))


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def jwt(claims, key=b"k" * 32, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    inp = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(claims).encode())
    return inp + b"." + b64(hmac.new(key, inp, hashlib.sha256).digest())


def bridge_seeds():
    routes = [("GET", "/api/v1/containers/abc123"), ("DELETE", "/api/v1/containers/%2e%2e"),
              ("POST", "/api/v1/hosts"), ("GET", "/api/v1/containers?owner=alice&host=h%201&x"),
              ("PUT", "/api/v1/users/bob/password"), ("GET", "/api/v1/jobs/%2f"),
              ("GET", "//api//v1/ws/?a=%zz&b=+c")]
    for i, (m, p) in enumerate(routes):
        write("bridge_http", "route%d" % i, b"\0" + m.encode() + b"\0" + p.encode())
    write("bridge_http", "token-good", b"\1" + jwt({"sub": "alice", "exp": 1900000000}))
    write("bridge_http", "token-expired", b"\1" + jwt({"sub": "alice", "exp": 1}))
    write("bridge_http", "token-none", b"\1" + jwt({"exp": 1900000000}, header={"alg": "none"}))
    write_crash("bridge_http", "jwt-alg-not-string", b"\1" + jwt({"exp": 1900000000}, header={"alg": 1}))
    write("bridge_http", "token-wrong-key", b"\1" + jwt({"exp": 1900000000}, key=b"x" * 32))
    write("bridge_http", "claims", b"\2" + json.dumps({"sub": "a", "exp": 1900000000, "role": "admin"}).encode())
    write("bridge_http", "claims-float-exp", b"\2" + b'{"exp": 1.9e9}')
    write("bridge_http", "b64", b"\3" + b64(b"\0\1\2hello"))


STATUS = {200: 0, 201: 1, 204: 2, 304: 3, 400: 4, 404: 5, 409: 6, 503: 7, 504: 8}
ACTIONS = ["ping", "host-info", "disk-usage", "list-containers", "inspect-container",
           "create-container", "start-container", "stop-container", "restart-container",
           "kill-container", "remove-container", "delete-container", "container-logs",
           "container-stats", "list-images", "inspect-image", "pull-image", "remove-image"]


def testdata(name):
    with open(os.path.join(HERE, "..", "..", "agent", "testdata", name), "rb") as f:
        return f.read()


def script(*replies):
    out = b""
    for status, body in replies:
        if isinstance(body, str):
            body = body.encode()
        out += bytes([STATUS[status]]) + struct.pack(">H", len(body)) + body
    return out


def action_seeds():
    inspect = testdata("container_inspect.json")
    cid = "075df898b122"
    pull = (b'{"status":"Pulling from busybox","id":"latest"}\n'
            b'{"status":"Downloading","progressDetail":{"current":10,"total":100},"id":"abc"}\n'
            b'{"status":"Status: Downloaded newer image for localhost:5000/busybox:latest"}\n')
    cases = {
        "ping": ({}, [(200, "OK")]),
        "host-info": ({}, [(200, testdata("info.json")), (200, testdata("version.json"))]),
        "disk-usage": ({}, [(200, testdata("system_df.json"))]),
        "list-containers": ({"all": True, "label": "tier=web"}, [(200, testdata("containers_list.json"))]),
        "inspect-container": ({"id": cid}, [(200, inspect)]),
        "create-container": ({"image": "local/busybox:latest", "cmd": ["sleep", "5"], "name": "web",
                              "instances": 2, "env": ["A=1"], "labels": {"x": "y"},
                              "ports": [{"container_port": 80, "host_port": 8080}],
                              "binds": ["/srv:/srv:ro"], "memory": 67108864, "cpus": 0.5,
                              "restart_policy": "on-failure:3", "network_mode": "none"},
                             [(200, "[]"), (201, '{"Id":"aaaa1111","Warnings":[]}'), (204, ""),
                              (201, '{"Id":"bbbb2222","Warnings":null}'), (204, "")]),
        "create-container-retry": ({"image": "local/busybox:latest", "instances": 2, "template": "web"},
                                   [(200, json.dumps([{"Id": "aaaa1111", "Names": ["/web-1"], "State": "running",
                                                       "Labels": {"dockmesh.owner": "alice",
                                                                  "dockmesh.request": "0123456789abcdef0123456789abcdef",
                                                                  "dockmesh.instance": "1"}}])),
                                    (201, '{"Id":"bbbb2222"}'), (204, ""), (200, inspect)]),
        "start-container": ({"id": cid}, [(200, inspect), (304, "")]),
        "stop-container": ({"id": cid, "timeout": 1}, [(200, inspect), (204, "")]),
        "restart-container": ({"id": cid}, [(200, inspect), (204, "")]),
        "kill-container": ({"id": cid, "signal": "TERM"}, [(200, inspect), (409, '{"message":"is not running"}')]),
        "remove-container": ({"id": cid, "force": True}, [(200, inspect), (204, "")]),
        "delete-container": ({"id": "/rec1"}, [(404, '{"message":"No such container: rec1"}')]),
        "container-logs": ({"id": cid, "tail": 10, "timestamps": True},
                           [(200, inspect), (200, testdata("logs_multiplexed.bin"))]),
        "container-stats": ({"id": cid}, [(200, inspect), (200, testdata("container_stats.json"))]),
        "list-images": ({"reference": "local/*"}, [(200, testdata("images_list.json"))]),
        "inspect-image": ({"image": "local/busybox:latest"}, [(200, '{"Id":"sha256:ab","RepoTags":["local/busybox:latest"]}')]),
        "pull-image": ({"image": "localhost:5000/busybox:latest",
                        "auth": {"username": "u", "password": "p", "server_address": "localhost:5000"}},
                       [(200, pull), (200, '{"Id":"sha256:ab"}')]),
        "remove-image": ({"image": "local/busybox:latest", "force": True},
                         [(200, '[{"Untagged":"local/busybox:latest"},{"Deleted":"sha256:ab"}]')]),
    }
    for name, (body, replies) in cases.items():
        for role in (0, 1):
            data = bytes([ACTIONS.index(name.replace("-retry", "")), role]) + json.dumps(body).encode() + b"\0" + script(*replies)
            write("agent_actions", "%s-%s" % (name, "user" if role == 0 else "admin"), data)
    # Reproducers of what fuzzing found (see tests/RELIABILITY.md).
    write_crash("agent_actions", "docker-error-body-not-utf8",
                bytes([ACTIONS.index("list-containers"), 1]) + b"{}\0" + script((404, b"no such thing \xff\xfe")))
    write_crash("agent_actions", "ping-body-not-utf8",
                bytes([ACTIONS.index("ping"), 1]) + b"{}\0" + script((200, b"O\xffK")))
    write_crash("agent_actions", "create-docker-list-labels-array",
                bytes([ACTIONS.index("create-container"), 1]) + b'{"image":"local/busybox:latest"}\0' +
                script((200, b'[{"Id":"x","Names":["/a"],"Labels":[]}]')))
    write("agent_actions", "unknown-action", bytes([250, 1]) + b"{}\0")
    write("agent_actions", "docker-down", bytes([ACTIONS.index("list-containers"), 1]) + b"{}\0")
    write("agent_actions", "docker-garbage", bytes([ACTIONS.index("list-containers"), 1]) + b"{}\0" +
          script((200, b"\xff\xfe{not json"), (400, b"\xc3(")))


def args_seeds():
    cases = [
        (0, {}), (1, {"all": False, "label": "a=b", "name": "web", "status": "running"}),
        (2, {"id": "abc"}), (3, {"id": "abc", "timeout": 3600}), (3, {"id": "abc", "timeout": -1}),
        (4, {"id": "abc", "signal": "SIGHUP"}), (5, {"id": "x", "force": True, "volumes": False}),
        (6, {"id": "x", "tail": 100, "since": 1700000000, "timestamps": True, "stdout": True, "stderr": False}),
        (7, {"image": "local/busybox:latest", "template": "web", "name": "n", "cmd": ["a"], "entrypoint": [],
             "env": ["A=1"], "labels": {"k": "v"}, "working_dir": "/", "user": "1:1",
             "ports": [{"container_port": 80, "protocol": "udp", "host_port": 0, "host_ip": "127.0.0.1"}],
             "binds": ["v:/d"], "volumes": ["/v"], "memory": 1, "cpus": 1.5, "restart_policy": "no",
             "network_mode": "host", "start": False, "instances": 50, "stop_timeout": 5}),
        (7, {"image": "x", "instances": 51}), (7, {"image": "x", "cpus": 1e308}),
        (7, {"image": "x", "memory": 18446744073709551615}), (7, {"image": "x", "bogus": 1}),
        (8, {"all": True, "reference": "local/*"}), (9, {"image": "local/busybox"}),
        (10, {"image": "localhost:5000/busybox", "auth": {"username": "u", "password": "p", "server_address": "s"}}),
        (11, {"image": "x", "force": True, "noprune": True}), (2, None), (2, [1, 2]),
    ]
    for i, (sel, body) in enumerate(cases):
        write("action_args", "%02d" % i, bytes([sel]) + json.dumps(body).encode())


def broker_op(op, sel, body):
    raw = json.dumps(body).encode()
    return bytes([op, sel]) + struct.pack(">H", len(raw)) + raw


def broker_seeds():
    reg = {"fqdn": "host1.mesh.test", "incarnation": 1700000000000, "sequence": 1, "docker_up": True,
           "cpus": 2, "memory_bytes": 2**33, "labels": {"zone": "a"}, "containers_running": 0}
    reg2 = dict(reg, fqdn="host2.mesh.test", sequence=5, labels={"zone": "b"})
    inv = {"fqdn": "host1.mesh.test", "incarnation": 1700000000000, "sequence": 2,
           "containers": [{"id": "c" * 64, "name": "web-1", "image": "local/busybox:latest",
                           "state": "running", "created": 1700000000, "owner": "alice",
                           "memory_limit": 0}]}
    # op 0 announce: sel bit0 host2, bits1.. action (0 register, 1 heartbeat, 2 unregister, 3 inventory)
    ann = lambda action, host2: (action << 1) | host2
    seq = [broker_op(0, ann(0, 0), reg), broker_op(0, ann(0, 1), reg2), broker_op(0, ann(3, 0), inv),
           broker_op(3, 0 | (0 << 3), {}), broker_op(3, 0 | (3 << 3), {"ref": "web-1", "owner": "alice"}),
           broker_op(1, 1 | 4 | 16, {"image": "local/busybox:latest", "instances": 3}),
           broker_op(2, 0, {"id": "x", "containers": [{"id": "d" * 64}]}),
           broker_op(4, 80, {}), broker_op(4, 0, {}),
           broker_op(0, ann(1, 0), dict(reg, sequence=3)), broker_op(0, ann(2, 1), dict(reg2, sequence=6)),
           broker_op(3, 3 | (4 << 3), {"fqdn": "host9.mesh.test"}), broker_op(3, 0 | (9 << 3), {"ttl_seconds": 60}),
           broker_op(3, 1 | (0 << 3), {"status": "down", "label": "zone=b"})]
    write("broker_core", "session", b"".join(seq))
    write("broker_core", "register-only", broker_op(0, ann(0, 0), reg))
    write("broker_core", "foreign-fqdn", broker_op(0, 0x40, reg))
    write("broker_core", "schedule", broker_op(0, ann(0, 0), reg) + broker_op(1, 1 | 4, {"image": "x"}) +
          broker_op(2, 0, {"id": "abc"}) + broker_op(4, 255, {}) + broker_op(4, 255, {}))
    write("broker_core", "keys", b"".join(broker_op(3, 0 | (a << 3), {"key": "admin"}) for a in range(5, 10)))


def message_seeds():
    msgs = [
        (0, {"action": "create-container", "image": "local/busybox:latest", "cmd": ["sleep", "9"],
             "instances": 2, "labels": {"a": "b"}, "env": ["X=1"], "memory": 1048576}),
        (0, {"action": "create-container", "host": "host1.mesh.test", "template": "web"}),
        (0, {"action": "stop-container", "id": "abc123", "timeout": 3}),
        (0, {"action": "kill-container", "id": "abc123", "signal": "SIGTERM"}),
        (0, {"action": "container-logs", "id": "abc", "tail": 20, "stdout": True}),
        (0, {"action": "ping", "host": "host1.mesh.test"}), (0, {"action": "ping"}),
        (1, {"action": "pull-image", "host": "host2.mesh.test", "image": "localhost:5000/busybox:latest",
             "auth": {"username": "u", "password": "p", "server_address": "localhost:5000"}}),
        (0, {"action": "pull-image", "host": "host2.mesh.test", "image": "x"}),
        (1, {"action": "list-containers", "host": "host1.mesh.test", "all": True, "status": "running"}),
        (0, {"action": "register", "body": {}}), (1, {"action": "remove-image", "host": "h", "image": "x", "force": True}),
        (0, {"action": "create-container", "image": "x", "user": "root", "role": "admin"}),
        (0, {"action": "create-container", "image": "x", "binds": ["/etc:/host-etc"]}),
        (1, {"action": "disk-usage", "host": "host1.mesh.test"}), (0, [1, 2]), (0, "ping"),
    ]
    for i, (role, m) in enumerate(msgs):
        write("bridge_messages", "%02d" % i, bytes([role]) + json.dumps(m).encode())


def found_by_fuzzing():
    """Reproducers of bugs the fuzzers found (tests/RELIABILITY.md lists them)."""
    write_crash("topic", "quote-splits-utf8",
                b"req/host/" + b"a" * 63 + "é".encode() + b"/\0" + b"x" * 79 + "é".encode())
    write_crash("agent_grammar", "excerpt-splits-utf8", b"\0" + b"a" + "é".encode() * 40)


def main():
    found_by_fuzzing()
    message_seeds()
    broker_seeds()
    action_seeds()
    args_seeds()
    envelope_seeds()
    topic_seeds()
    grammar_seeds()
    demux_seeds()
    bridge_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
