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

Prints `RESULT | name | value | baseline | ratio | target | PASS/FAIL/info | note` lines for
bench/run.sh. Usage: bench_docker_api.py [--runs N]
"""

import argparse
import json
import os
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
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


if __name__ == "__main__":
    main()
