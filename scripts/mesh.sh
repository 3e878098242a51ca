#!/usr/bin/env bash
# mesh.sh: a throw-away multi-host dockmesh on one machine, for tests, demos and benchmarks.
#
#   scripts/mesh.sh up   --hosts N --dir DIR [--brokers N] [--base-port P] [--label hostI:k=v]...
#                        [--build-dir B] [--docker-only] [--no-bridge] [--timeout S]
#                        [--metrics-port M]
#                        [--docker-api-port PORT] [--bridge-arg ARG]... [--broker-netns I]
#   scripts/mesh.sh down --dir DIR [--purge]
#   scripts/mesh.sh partition|heal --dir DIR
#   scripts/mesh.sh status --dir DIR
#   scripts/mesh.sh restart-agent --dir DIR --host I
#
# `up` starts N private dockerds (host i = host<i>.mesh.test, socket DIR/host<i>/docker.sock),
# imports local/busybox:latest into each, generates CURVE keys, and starts one broker, N agents
# and the bridge (when build/bin/dockmesh-bridge exists). Every process it starts gets a pid file
# in DIR/pids/ and a log in DIR/logs/. `down` removes every container on those dockerds, then stops
# exactly the processes named in DIR/pids/ (SIGTERM, then SIGKILL after a deadline), and finally
# any process still running from DIR (containerd and shims that our dockerds spawned). Both
# commands are safe to run twice. `restart-agent` stops host I's agent and starts it again with
# the same arguments (DIR/host<i>/agent.argv), waiting until the directory has it up. Ports: broker XSUB P, XPUB P+1, ROUTER P+2, bridge P+10.
# --brokers N (1..3, default 1): N brokers (broker i at P+3(i-1)) that agree through a
# three-member etcd cluster on loopback (scripts/lib/mesh_etcd.sh: data in DIR/etcd<k>, client
# ports P+12, P+14, P+16); every agent, the bridge and dockmeshctl.conf name all brokers.
# Files: DIR/dockmeshctl.conf, DIR/admin.key, DIR/broker.key (server pair), DIR/broker.pub
# ("public-key = <Z85>"), DIR/authorized_keys, DIR/host<i>/agent.key, DIR/bridge.key,
# DIR/bridge.url, DIR/admin.password, DIR/pids/<name>.pid, DIR/logs/<name>.log.
# --metrics-port M: every daemon serves Prometheus /metrics (--metrics-listen): broker i at
# M+i-1, the bridge at M+3, host i's agent at M+3+i; DIR/metrics.targets lists them, one
# "<job> 127.0.0.1:<port>" line each (jobs dockmesh-broker, dockmesh-bridge, dockmesh-agent).
# --docker-api-port PORT: the bridge also serves the Docker-compatible endpoint on
# 127.0.0.1:PORT (docs/docker-api.md) and DIR/docker.host says tcp://127.0.0.1:PORT.
# --broker-netns I (with --brokers 2 or 3, as root): broker I runs in a network namespace of its
# own on a veth pair (scripts/lib/mesh_netns.sh; DIR/netns says "NAME ROOT_IP NS_IP I"), reached
# by everyone on its namespace address. `partition` cuts that broker off from etcd, the agents,
# the bridge and the CLI (the veth pair's root end goes down); `heal` joins it again.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
readonly SCRIPT_DIR SOURCE_DIR
readonly PY=/usr/bin/python3
readonly MARKER=.dockmesh-mesh

HOSTS=1
AGENT_HOST=""
BROKERS=1
DIR=""
BASE_PORT=7400
BUILD_DIR="${MESH_BUILD_DIR:-$SOURCE_DIR/build}"
DOCKER_ONLY=0
NO_BRIDGE=0
DOCKER_API_PORT=""
PURGE=0
TIMEOUT="${MESH_TIMEOUT:-60}"
LABELS=()
BRIDGE_ARGS=()  # --bridge-arg ARG: passed to dockmesh-bridge as is (e.g. --stats-interval=1)
METRICS_PORT=""

die() { echo "mesh.sh: error: $*" >&2; exit 1; }
note() { echo "mesh.sh: $*" >&2; }

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------- process bookkeeping

# A pid is "ours" only if it is alive (not a zombie) and its command line mentions DIR: every
# process mesh.sh starts has DIR in its arguments, so a recycled pid is never mistaken for ours.
# A process in the middle of execve has an empty command line for a moment (the new image's
# arguments are not set up yet): start_process records the pid before its shell execs, so an
# empty command line is read again for up to a second rather than taken as "not ours" (CI once
# reported a starting etcd as exited for this reason).
pid_is_ours() {
  local pid="$1" state cmd tries=0
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  while :; do
    [[ -r "/proc/$pid/stat" ]] || return 1
    state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
    [[ "$state" != "Z" && "$state" != "X" ]] || return 1
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ -z "$cmd" ]] || break
    ((++tries <= 20)) || return 1
    sleep 0.05
  done
  [[ "$cmd" == *"$DIR/"* ]]
}

# start_process NAME CMD ARGS...: runs CMD in its own session (so a Ctrl-C in the caller's
# terminal reaches only the caller, which then runs `down`), logs to DIR/logs/NAME.log, and
# records the real pid (the exec'd shell's own pid) in DIR/pids/NAME.pid.
start_process() {
  local name="$1"; shift
  local pidfile="$DIR/pids/$name.pid" log="$DIR/logs/$name.log"
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1 &
  local deadline=$((SECONDS + 5))
  until [[ -s "$pidfile" ]]; do
    ((SECONDS < deadline)) || die "$name did not start (no pid file); log: $log"
    sleep 0.05
  done
}

# Fails with the log tail if NAME's process has exited.
check_alive() {
  local name="$1" pid
  pid="$(cat "$DIR/pids/$name.pid" 2>/dev/null || true)"
  pid_is_ours "$pid" && return 0
  echo "mesh.sh: error: $name exited; last lines of $DIR/logs/$name.log:" >&2
  tail -n 30 "$DIR/logs/$name.log" >&2 || true
  exit 1
}

# stop_group NAME...: SIGTERM to every named process, wait up to STOP_DEADLINE seconds for all of
# them, then SIGKILL the rest. Removes the pid files.
STOP_DEADLINE="${MESH_STOP_DEADLINE:-10}"
stop_group() {
  local name pid pids=()
  for name in "$@"; do
    pid="$(cat "$DIR/pids/$name.pid" 2>/dev/null || true)"
    if pid_is_ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
  done
  wait_gone "$STOP_DEADLINE" "${pids[@]}" || {
    for pid in "${pids[@]}"; do
      if pid_is_ours "$pid"; then note "pid $pid ignored SIGTERM; sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    done
    wait_gone 5 "${pids[@]}" || note "warning: some processes survived SIGKILL: ${pids[*]}"
  }
  for name in "$@"; do rm -f "$DIR/pids/$name.pid"; done
}

# wait_gone SECONDS PID...: true once none of the pids is ours any more.
wait_gone() {
  local deadline=$((SECONDS + $1)) pid alive; shift
  while :; do
    alive=0
    for pid in "$@"; do pid_is_ours "$pid" && alive=1; done
    ((alive == 0)) && return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# Every live daemon process whose command line mentions DIR: the containerd and shims our
# dockerds spawned, or one of our own binaries whose pid file was lost. Only these program names
# are considered, so a user's `tail -f DIR/logs/x.log` or a test's client is never touched.
stray_pids() {
  local p comm
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    comm="$(cat "/proc/$p/comm" 2>/dev/null || true)"
    case "$comm" in
      dockerd|containerd|containerd-shim*|runc|docker-proxy|dockmesh-*) ;;
      *) continue ;;
    esac
    pid_is_ours "$p" && echo "$p"
  done
  return 0
}

# shellcheck source=scripts/lib/mesh_docker.sh
source "$SCRIPT_DIR/lib/mesh_docker.sh"
# shellcheck source=scripts/lib/mesh_etcd.sh
source "$SCRIPT_DIR/lib/mesh_etcd.sh"
# shellcheck source=scripts/lib/mesh_services.sh
source "$SCRIPT_DIR/lib/mesh_services.sh"
# shellcheck source=scripts/lib/mesh_netns.sh
source "$SCRIPT_DIR/lib/mesh_netns.sh"

# ---------------------------------------------------------------- commands

parse_args() {
  while (($#)); do
    case "$1" in
      --host) AGENT_HOST="${2:?--host needs a host number}"; shift 2 ;;
      --hosts) HOSTS="${2:?--hosts needs a number}"; shift 2 ;;
      --brokers) BROKERS="${2:?--brokers needs a number}"; shift 2 ;;
      --dir) DIR="${2:?--dir needs a path}"; shift 2 ;;
      --base-port) BASE_PORT="${2:?--base-port needs a number}"; shift 2 ;;
      --label) LABELS+=("${2:?--label needs hostI:k=v}"); shift 2 ;;
      --build-dir) BUILD_DIR="${2:?--build-dir needs a path}"; shift 2 ;;
      --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
      --docker-only) DOCKER_ONLY=1; shift ;;
      --no-bridge) NO_BRIDGE=1; shift ;;
      --metrics-port) METRICS_PORT="${2:?--metrics-port needs a port}"; shift 2 ;;
      --docker-api-port) DOCKER_API_PORT="${2:?--docker-api-port needs a port}"; shift 2 ;;
      --bridge-arg) BRIDGE_ARGS+=("${2:?--bridge-arg needs an argument}"); shift 2 ;;
      --broker-netns) NETNS_BROKER="${2:?--broker-netns needs a broker number}"; shift 2 ;;
      --purge) PURGE=1; shift ;;
      -h|--help) usage ;;
      *) die "unknown argument '$1' (see --help)" ;;
    esac
  done
  [[ -n "$DIR" ]] || die "--dir DIR is required"
  [[ "$HOSTS" =~ ^[1-9][0-9]*$ ]] || die "--hosts must be a positive number, got '$HOSTS'"
  [[ "$BROKERS" =~ ^[1-3]$ ]] || die "--brokers must be 1, 2 or 3, got '$BROKERS'"
  [[ "$BASE_PORT" =~ ^[0-9]+$ ]] || die "--base-port must be a number, got '$BASE_PORT'"
  ((BASE_PORT >= 1024 && BASE_PORT <= 65000)) ||
    die "--base-port must be a number in 1024..65000, got '$BASE_PORT'"
  [[ -z "$METRICS_PORT" || "$METRICS_PORT" =~ ^[1-9][0-9]*$ ]] ||
    die "--metrics-port must be a number, got '$METRICS_PORT'"
  [[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds, got '$TIMEOUT'"
  check_netns_args
  DIR="$(realpath -m -- "$DIR")"
  # containerd puts its sockets in DIR/hostNN/exec/containerd/containerd-debug.sock; a unix socket
  # path must stay under 108 bytes.
  ((${#DIR} <= 64)) || die "--dir path is ${#DIR} characters; use one of at most 64 (unix socket paths must stay < 108 bytes): $DIR"
  BUILD_DIR="$(cd "$BUILD_DIR" 2>/dev/null && pwd || echo "$BUILD_DIR")"
}

cmd_up() {
  local started=0
  if [[ -d "$DIR/pids" ]]; then
    for f in "$DIR"/pids/*.pid; do
      [[ -e "$f" ]] && pid_is_ours "$(cat "$f")" && started=1
    done
  fi
  ((started == 0)) || die "a mesh is already running in $DIR; run: $0 down --dir $DIR"
  check_tools
  if ((DOCKER_ONLY == 0)); then
    need_binary dockmesh-broker
    need_binary dockmesh-agent
    need_binary dockmeshctl
  fi
  mkdir -p "$DIR/pids" "$DIR/logs"
  touch "$DIR/$MARKER"
  echo "$HOSTS" >"$DIR/hosts"
  echo "$BASE_PORT" >"$DIR/base-port"
  echo "$BROKERS" >"$DIR/brokers"
  rm -f "$DIR/bridge.url" "$DIR/metrics.targets"
  if ((DOCKER_ONLY == 0)); then
    local ports=("$((BASE_PORT + 10))") b p
    for ((b = 1; b <= BROKERS; b++)); do
      p="$(broker_port "$b")"; ports+=("$p" "$((p + 1))" "$((p + 2))")
    done
    ((BROKERS > 1)) && mapfile -t -O "${#ports[@]}" ports < <(etcd_ports)
    check_ports_free "${ports[@]}"
  fi
  # A failure half-way leaves nothing running.
  trap 'rc=$?; if ((rc != 0)); then note "up failed; stopping what was started"; cmd_down_quiet; fi' EXIT
  start_dockerds
  if ((DOCKER_ONLY)); then
    trap - EXIT
    note "dockerds up (--docker-only): sockets $DIR/host<i>/docker.sock"
    return 0
  fi
  start_services
  trap - EXIT
  print_summary
}

cmd_down_quiet() { cmd_down >/dev/null 2>&1 || true; }

cmd_down() {
  [[ -d "$DIR" ]] || { note "nothing to stop: $DIR does not exist"; return 0; }
  local n=0 i
  [[ -r "$DIR/hosts" ]] && n="$(cat "$DIR/hosts")"
  for ((i = 1; i <= n; i++)); do remove_all_containers "$i"; done
  stop_group bridge
  local agents=()
  for ((i = 1; i <= n; i++)); do agents+=("agent-host$i"); done
  ((${#agents[@]})) && stop_group "${agents[@]}"
  local brokers=1 b names=()
  [[ -r "$DIR/brokers" ]] && brokers="$(cat "$DIR/brokers")"
  for ((b = 1; b <= brokers; b++)); do names+=("$(broker_name "$b")"); done
  stop_group "${names[@]}"
  ((brokers > 1)) && stop_etcd
  local dockerds=()
  for ((i = 1; i <= n; i++)); do dockerds+=("dockerd-host$i"); done
  ((${#dockerds[@]})) && stop_group "${dockerds[@]}"
  stop_strays
  teardown_netns
  unmount_leftovers
  if ((PURGE)); then
    [[ -e "$DIR/$MARKER" ]] || die "--purge: $DIR has no $MARKER marker; not removing it"
    rm -rf "$DIR"
  fi
  note "down: nothing left running from $DIR"
}

cmd_status() {
  local f name pid
  for f in "$DIR"/pids/*.pid; do
    [[ -e "$f" ]] || continue
    name="$(basename "$f" .pid)"; pid="$(cat "$f")"
    if pid_is_ours "$pid"; then echo "$name $pid running"; else echo "$name $pid gone"; fi
  done
}

main() {
  (($#)) || usage
  local cmd="$1"; shift
  case "$cmd" in
    up) parse_args "$@"; cmd_up ;;
    down) parse_args "$@"; cmd_down ;;
    status) parse_args "$@"; cmd_status ;;
    restart-agent) parse_args "$@"; restart_agent "$AGENT_HOST" ;;
    partition) parse_args "$@"; set_partition down ;;
    heal) parse_args "$@"; set_partition up ;;
    -h|--help|help) usage ;;
    *) die "unknown command '$cmd' (expected up, down, status, restart-agent, partition or heal)" ;;
  esac
}

main "$@"
