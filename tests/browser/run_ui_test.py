"""Runs the browser test (ui_test.mjs) against a fresh two-host mesh with the bridge and a local
registry, then checks the real dockerd: the container the UI created and removed is gone. Host 1's
agent runs without --allow-exec (the default: a terminal is refused), host 2's with it: the
user's `ui-shell` there gets a terminal, the admin's `admin-box` there must not.
Screenshots go to <build>/screenshots/. Exit code 0 on success; 77 (skipped) when Chromium or
node is missing."""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from agent_bus import restart_agent  # noqa: E402
from bridgelib import Bridge, LocalRegistry, admin_password, create_message  # noqa: E402
from meshlib import BUILD_DIR, Mesh, wait_for  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TICKER = "i=0; while true; do echo tick-$i; echo tock-$i >&2; i=$((i+1)); sleep 0.5; done"


def ensure_playwright():
    if os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


def main():
    if not (os.access(CHROMIUM, os.X_OK) and shutil.which("node")):
        print("browser test skipped: needs %s and node" % CHROMIUM)
        return 77
    ensure_playwright()
    shots = os.path.join(BUILD_DIR, "screenshots")
    shutil.rmtree(shots, ignore_errors=True)
    # The bridge samples usage every second, so that the history graphs have points at once.
    with Mesh(hosts=2, bridge_args=["--stats-interval=1"]) as mesh:
        restart_agent(mesh, 2, ["--allow-exec"])
        admin = Bridge.admin(mesh)
        user = admin.make_user("webuser", password="webuser-password")
        # The restarted agent answers again (a create on it goes through) before the page opens.
        shell = wait_for(lambda: user.send(create_message(mesh.fqdn(2), "ui-shell", ["sleep", "3600"])).status == 201,
                         timeout=30, interval=0.5, message="a create on the restarted host2")
        r = admin.send(create_message(mesh.fqdn(2), "admin-box", ["sleep", "3600"]))
        if not shell or r.status != 201:
            print("could not create ui-shell / admin-box: %r" % r)
            return 1
        other_id = r.json["body"]["id"]
        # A second running container of the user's, printing on stdout and stderr, for the
        # merged log tail.
        r = user.send(create_message(mesh.fqdn(1), "ui-ticker", ["sh", "-c", TICKER]))
        if r.status != 201:
            print("could not create ui-ticker: %r" % r)
            return 1
        registry = LocalRegistry(mesh)
        try:
            pull_ref = registry.push_from(mesh, 1, "local/busybox:latest", "uipull")
            env = dict(os.environ, BRIDGE_URL=open(mesh.path("bridge.url")).read().strip(),
                       UI_USER="webuser", UI_PASSWORD="webuser-password",
                       ADMIN_PASSWORD=admin_password(mesh),
                       HOST_FQDN=mesh.fqdn(1), EXEC_HOST_FQDN=mesh.fqdn(2),
                       SHELL_CONTAINER="ui-shell", OTHER_CONTAINER_ID=other_id, PULL_IMAGE=pull_ref, SCREENSHOT_DIR=shots,
                       CHROMIUM=CHROMIUM)
            r = subprocess.run(["node", os.path.join(HERE, "ui_test.mjs")], env=env, timeout=600)
            if r.returncode != 0:
                mesh.dump_logs()
                return 1
        finally:
            registry.close()
        status, items = mesh.docker(1, "GET", "/containers/json?all=1")
        names = [n for c in items for n in c.get("Names", [])]
        if "/ui-web" in names:
            print("the container removed through the UI is still on the dockerd: %r" % names)
            return 1
    print("screenshots in %s" % shots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
