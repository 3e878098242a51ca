#!/usr/bin/python3
"""bench_docker_api: `docker run -d` through the mesh's Docker-compatible endpoint against the same
`docker run -d` sent straight to the host's dockerd, in one run on one throw-away mesh
(scripts/mesh.sh up --hosts 1 --docker-api-port P: a private dockerd, broker, agent, bridge).

Each round runs Debian's docker CLI (/usr/bin/docker) once each way, alternating which goes
first, and times the whole command (CLI start, create, start, exit). Through the mesh the CLI
talks to the bridge (DOCKER_HOST=tcp://127.0.0.1:P, bearer token in DOCKER_CONFIG's
HttpHeaders), which sends create-container to req/any/ (the scheduler places it) and
start-container to the agent; directly it talks to the dockerd's socket. Containers are removed
after each round, outside the timing. Target (docs/architecture.md): median ratio <= 1.05x.

With --steps, a second series runs both ways through bench/http_step_timer.py (a relay that
times each HTTP request the CLI makes) and prints one info line per request kind (HEAD /_ping,
POST create, POST wait, POST start): median time to the first byte of the answer through the mesh
and directly. The relay adds a hop to both paths, so only the difference between them counts.

Prints `RESULT | name | value | baseline | ratio | target | PASS/FAIL/info | note` lines for
bench/run.sh. Usage: bench_docker_api.py [--runs N] [--steps]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from bridgelib import Bridge, free_port  # noqa: E402
from meshlib import Mesh  # noqa: E402

DOCKER = "/usr/bin/docker"
IMAGE = "local/busybox:latest"


def result(name, value, baseline, ratio, target, verdict, note):
    print("RESULT | %s | %s | %s | %s | %s | %s | %s" % (name, value, baseline, ratio, target,
                                                      verdict, note), flush=True)


def timed_run(env):
    start = time.perf_counter()
    r = subprocess.run([DOCKER, "run", "-d", "--network", "none", IMAGE, "true"], env=env,
                       capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise RuntimeError("docker run failed: " + r.stderr.strip())
    return elapsed, r.stdout.strip()


def step_kind(request_line):
    method, target = (request_line.split(" ") + ["", ""])[:2]
    path = re.sub(r"^/v1\.\d+", "", target.split("?")[0])
    path = re.sub(r"^/containers/[0-9a-f]{12,64}/", "/containers/{id}/", path)
    return method + " " + path


def read_steps(log):
    steps = {}
    with open(log) as f:
        for line in f:
            request, first, _ = line.rstrip("\n").split("\t")
            steps.setdefault(step_kind(request), []).append(float(first))
    return steps


def step_series(mesh, envs, runs):
    """The same alternating rounds with a timing relay in front of each path."""
    work = tempfile.mkdtemp(prefix="dmsteps")
    relays, logs = [], {}
    try:
        for name, upstream in envs.items():
            port, logs[name] = free_port(), os.path.join(work, name + ".log")
            relays.append(subprocess.Popen([sys.executable, os.path.join(HERE, "http_step_timer.py"),
                                            str(port), upstream["upstream"], logs[name]]))
            upstream["env"]["DOCKER_HOST"] = "tcp://127.0.0.1:%d" % port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
                subprocess.run([DOCKER, "version"], env=e["env"], capture_output=True).returncode == 0
                for e in envs.values()):
            time.sleep(0.1)
        for i in range(runs):
            order = list(envs) if i % 2 == 0 else list(reversed(envs))
            ids = [timed_run(envs[name]["env"])[1] for name in order]
            for cid in ids:
                mesh.docker(1, "DELETE", "/containers/%s?force=1" % cid)
    finally:
        for r in relays:
            r.terminate()
            r.wait()
    through, direct = read_steps(logs["mesh"]), read_steps(logs["direct"])
    for kind in sorted(through):
        if kind not in direct or kind.endswith("/version") or kind.endswith("/json"):
            continue
        m, d = statistics.median(through[kind]), statistics.median(direct[kind])
        result("docker run -d step: " + kind + " (to first byte, median)", "%.1f ms" % m,
               "%.1f ms" % d, "%+.1f ms" % (m - d), "-", "info",
               "%d vs %d requests through a timing relay on both paths" %
               (len(through[kind]), len(direct[kind])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--steps", action="store_true", help="also time each request of the CLI")
    args = ap.parse_args()
    port = free_port()
    with Mesh(hosts=1, docker_api_port=port) as mesh:
        admin = Bridge.admin(mesh)
        config = tempfile.mkdtemp(prefix="dmbcfg")
        with open(os.path.join(config, "config.json"), "w") as f:
            json.dump({"HttpHeaders": {"Authorization": "Bearer " + admin.token}}, f)
        through = dict(os.environ, DOCKER_HOST="tcp://127.0.0.1:%d" % port, DOCKER_CONFIG=config)
        direct = dict(os.environ, DOCKER_HOST="unix://" + mesh.socket_path(1), DOCKER_CONFIG=config)
        direct.pop("DOCKER_CONFIG")
        mesh_t, direct_t = [], []
        for i in range(args.runs + 2):  # two warm-up rounds, not counted
            order = [(through, mesh_t), (direct, direct_t)]
            if i % 2:
                order.reverse()
            ids = []
            for env, times in order:
                t, cid = timed_run(env)
                ids.append(cid)
                if i >= 2:
                    times.append(t)
            for cid in ids:
                mesh.docker(1, "DELETE", "/containers/%s?force=1" % cid)
        m, d = statistics.median(mesh_t), statistics.median(direct_t)
        ratio = m / d
        p90 = lambda xs: sorted(xs)[int(len(xs) * 0.9) - 1]  # noqa: E731
        result("docker run -d: through the mesh vs one dockerd (median)", "%.0f ms" % (m * 1000),
               "%.0f ms" % (d * 1000), "%.3fx" % ratio, "<= 1.05x",
               "PASS" if ratio <= 1.05 else "FAIL",
               "%d runs each, alternating; p90 %.0f ms vs %.0f ms; whole CLI command timed"
               % (len(mesh_t), p90(mesh_t) * 1000, p90(direct_t) * 1000))
        if args.steps:
            step_series(mesh, {
                "mesh": {"upstream": "127.0.0.1:%d" % port, "env": dict(through)},
                "direct": {"upstream": "unix:" + mesh.socket_path(1), "env": dict(through)},
            }, max(10, args.runs // 2))


if __name__ == "__main__":
    main()
