#!/usr/bin/python3
"""ab_docker_api: `docker run -d` through two builds' Docker endpoints in one run, for before/after
figures on a noisy machine. Starts two one-host meshes side by side (scripts/mesh.sh up from build
A's and build B's bin/ directories), and in each round runs Debian's docker CLI four times --
through A's endpoint, directly against A's dockerd, the same for B -- rotating the order, two
warm-up rounds not counted. Prints, per build, the median through the mesh, direct, their ratio
and difference. Not part of bench/run.sh (it needs two builds).

Usage: DM_SOURCE_DIR=. bench/ab_docker_api.py RUNS BUILD_DIR_A BUILD_DIR_B
(a build dir is anything with bin/dockmesh-{broker,agent,bridge} and bin/dockmeshctl)
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import meshlib  # noqa: E402
from bridgelib import Bridge, free_port  # noqa: E402

DOCKER = "/usr/bin/docker"


def docker_run(env):
    start = time.perf_counter()
    r = subprocess.run([DOCKER, "run", "-d", "--network", "none", "local/busybox:latest", "true"],
                       env=env, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("docker run failed: " + r.stderr.strip())
    return time.perf_counter() - start, r.stdout.strip()


def start_mesh(build_dir):
    meshlib.BUILD_DIR = build_dir  # read by Mesh.up(), as CTL by its helpers
    meshlib.CTL = os.path.join(build_dir, "bin", "dockmeshctl")
    port = free_port()
    mesh = meshlib.Mesh(hosts=1, docker_api_port=port)
    mesh.__enter__()
    admin = Bridge.admin(mesh)
    config = tempfile.mkdtemp(prefix="dmab")
    with open(os.path.join(config, "config.json"), "w") as f:
        json.dump({"HttpHeaders": {"Authorization": "Bearer " + admin.token}}, f)
    through = dict(os.environ, DOCKER_HOST="tcp://127.0.0.1:%d" % port, DOCKER_CONFIG=config)
    direct = dict(os.environ, DOCKER_HOST="unix://" + mesh.socket_path(1))
    return mesh, through, direct


def main():
    runs, builds = int(sys.argv[1]), {"A": sys.argv[2], "B": sys.argv[3]}
    meshes, envs = {}, {}
    try:
        for name, build in builds.items():
            mesh, through, direct = start_mesh(os.path.abspath(build))
            meshes[name] = mesh
            envs[name + " mesh"], envs[name + " direct"] = (name, through), (name, direct)
        times = {n: [] for n in envs}
        order = list(envs)
        for i in range(runs + 2):
            made = []
            for n in order[i % 4:] + order[:i % 4]:
                t, cid = docker_run(envs[n][1])
                made.append((envs[n][0], cid))
                if i >= 2:
                    times[n].append(t)
            for name, cid in made:
                meshes[name].docker(1, "DELETE", "/containers/%s?force=1" % cid)
        for name, build in builds.items():
            m = statistics.median(times[name + " mesh"])
            d = statistics.median(times[name + " direct"])
            print("%s (%s): through the mesh %.0f ms, direct %.0f ms, %.3fx, difference %+.0f ms, "
                  "%d rounds" % (name, build, m * 1e3, d * 1e3, m / d, (m - d) * 1e3, runs))
    finally:
        for mesh in meshes.values():
            mesh.__exit__(None, None, None)


if __name__ == "__main__":
    main()
