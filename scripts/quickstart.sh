#!/usr/bin/env bash
# quickstart.sh: from a fresh checkout to a working single-host dockmesh on loopback.
# Installs the Debian packages (scripts/deps.sh), builds build/, then starts a private dockerd
# with local/busybox:latest, the broker, one agent and the bridge through scripts/mesh.sh in
# .mesh/ (ports 7400-7402 and 7410; --base-port P to move them). Prints the UI address, how to
# log in and example commands, then waits: Ctrl-C stops everything it started.
#
#   scripts/quickstart.sh [--base-port P] [--no-wait] [--fresh]
#   --no-wait   leave the mesh running and exit (stop it later: scripts/mesh.sh down --dir .mesh)
#   --fresh     if a mesh from an earlier quickstart still runs in .mesh/, stop it (its containers
#               are deleted) and start anew; without it quickstart refuses and says how to reuse it
# Environment: DOCKMESH_SKIP_DEPS=1 skips the package install; DOCKMESH_JOBS build parallelism.
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
readonly MESH_DIR="$SOURCE_DIR/.mesh"
BASE_PORT=7400
WAIT=1
FRESH=0

say() { echo "quickstart: $*"; }

while (($#)); do
  case "$1" in
    --base-port) BASE_PORT="${2:?--base-port needs a number}"; shift 2 ;;
    --no-wait) WAIT=0; shift ;;
    --fresh) FRESH=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "quickstart: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# The pid of a live process of an earlier quickstart's mesh in .mesh/, or nothing.
running_mesh_pid() {
  local f pid
  for f in "$MESH_DIR"/pids/*.pid; do
    [[ -e "$f" ]] || continue
    pid="$(cat "$f" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$MESH_DIR/"; then
      echo "$pid"
      return 0
    fi
  done
}

cd "$SOURCE_DIR"
pid="$(running_mesh_pid || true)"
if [[ -n "$pid" ]] && ((FRESH == 0)); then
  cat >&2 <<MSG
quickstart: a mesh from an earlier quickstart is still running in .mesh/ (pid $pid); nothing was
changed. Use it as it is:
  build/bin/dockmeshctl --config .mesh/dockmeshctl.conf hosts
  web UI: $(cat "$MESH_DIR/bridge.url" 2>/dev/null || echo "see .mesh/bridge.url") (user admin, password in .mesh/admin.password)
Stop it:    scripts/mesh.sh down --dir .mesh
Replace it (stops it and DELETES its containers): scripts/quickstart.sh --fresh
MSG
  exit 1
fi
say "1/3 installing packages (scripts/deps.sh)"
scripts/deps.sh
say "2/3 building the four binaries in build/bin/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${DOCKMESH_JOBS:-2}" \
  --target dockmesh-broker dockmesh-agent dockmesh-bridge dockmeshctl

say "3/3 starting the mesh in .mesh/"
# What is left in .mesh/ (files of a stopped mesh, or a running one with --fresh) goes first.
scripts/mesh.sh down --dir "$MESH_DIR" >/dev/null 2>&1 || true
SLEEPER=""
stop() {
  local rc=$?
  trap - INT TERM EXIT
  [[ -n "$SLEEPER" ]] && kill "$SLEEPER" 2>/dev/null
  echo
  say "stopping the mesh"
  scripts/mesh.sh down --dir "$MESH_DIR"
  exit "$rc"
}
((WAIT)) && trap stop INT TERM EXIT
scripts/mesh.sh up --hosts 1 --dir "$MESH_DIR" --base-port "$BASE_PORT"

cat <<EOF

dockmesh is running: one host (host1.mesh.test), its own dockerd, a broker and an agent.
EOF
if [[ -s "$MESH_DIR/bridge.url" ]]; then
  cat <<EOF
  Web UI:   $(cat "$MESH_DIR/bridge.url")
  Log in:   user admin, password: $(cat "$MESH_DIR/admin.password" 2>/dev/null || echo "see .mesh/admin.password")
            (also in .mesh/admin.password)
EOF
else
  echo "  (no web UI: build/bin/dockmesh-bridge was not built)"
fi
cat <<'EOF'

Try, from the repository root:
  build/bin/dockmeshctl --config .mesh/dockmeshctl.conf hosts
  build/bin/dockmeshctl --config .mesh/dockmeshctl.conf send '{"action":"create-container","image":"local/busybox:latest","cmd":["sleep","600"],"name":"demo"}'
  build/bin/dockmeshctl --config .mesh/dockmeshctl.conf containers
  build/bin/dockmeshctl --config .mesh/dockmeshctl.conf send '{"action":"stop-container","id":"demo","timeout":1}'
  build/bin/dockmeshctl --config .mesh/dockmeshctl.conf send '{"action":"remove-container","id":"demo"}'
  build/bin/dockmeshctl --config .mesh/dockmeshctl.conf watch

Logs are in .mesh/logs/.
EOF
if ((WAIT == 0)); then
  say "left running; stop it with: scripts/mesh.sh down --dir .mesh"
  exit 0
fi
say "press Ctrl-C to stop"
while :; do
  sleep 3600 &
  SLEEPER=$!
  wait "$SLEEPER" || true
done
