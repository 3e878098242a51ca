# shellcheck shell=bash
# mesh_services.sh: the dockmesh half of scripts/mesh.sh (sourced, not run). Generates keys and
# the broker's authorized-keys file, starts the broker, the agents and the bridge, waits until
# every host is registered and writes DIR/dockmeshctl.conf. Uses DIR, HOSTS, BASE_PORT, LABELS,
# BUILD_DIR, TIMEOUT and the helpers of mesh.sh.

LOG_LEVEL="${MESH_LOG_LEVEL:-info}"

bin() { echo "$BUILD_DIR/bin/$1"; }

need_binary() {
  [[ -x "$(bin "$1")" ]] ||
    die "$(bin "$1") not found; build first: cmake -S $SOURCE_DIR -B $BUILD_DIR && cmake --build $BUILD_DIR -j2 (or use --docker-only)"
}

# keygen FILE: prints the public key of FILE, first writing a new CURVE key file (mode 0600)
# unless FILE already holds one. Reusing keys keeps a mesh's identity across `down` and `up` on
# the same DIR: the broker's key store and the bridge's users live there too.
keygen() {
  local out="$1" pub
  pub="$(sed -n 's/^public-key = //p' "$out" 2>/dev/null | head -n 1)"
  if ((${#pub} == 40)) && grep -q '^secret-key = ' "$out"; then
    echo "$pub"
    return 0
  fi
  rm -f "$out"
  if [[ -x "$(bin dockmeshctl)" ]]; then
    "$(bin dockmeshctl)" keygen --out "$out" | tail -n 1
  else
    # Bootstrap path while dockmeshctl is not built yet: same file format, from libzmq's keygen.
    "$PY" - "$out" <<'EOF'
import os, sys, zmq
pub, sec = zmq.curve_keypair()
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"public-key = " + pub + b"\nsecret-key = " + sec + b"\n")
os.close(fd)
print(pub.decode())
EOF
  fi
}

make_keys() {
  local i pub
  BROKER_PUB="$(keygen "$DIR/broker.key")"
  # Key-file syntax without the secret: resolve_public_key() reads it. (A bare Z85 line is not
  # used: Z85 has '=' in its alphabet.)
  echo "public-key = $BROKER_PUB" >"$DIR/broker.pub"
  {
    echo "# written by scripts/mesh.sh: <role> <name> <public-key>"
    for ((i = 1; i <= HOSTS; i++)); do
      pub="$(keygen "$DIR/host$i/agent.key")"
      echo "agent host$i.mesh.test $pub"
    done
    echo "bridge bridge $(keygen "$DIR/bridge.key")"
    echo "admin admin $(keygen "$DIR/admin.key")"
  } >"$DIR/authorized_keys"
  chmod 0600 "$DIR/authorized_keys"
}

# broker-key names a file, not the Z85 text: config files end a value at '#', and '#' is one of
# Z85's characters.
write_ctl_config() {
  local i
  {
    echo "# dockmeshctl configuration for the mesh in $DIR (written by scripts/mesh.sh)"
    for ((i = 1; i <= BROKERS; i++)); do echo "broker = $(broker_host "$i"):$(broker_port "$i")"; done
    echo "broker-key = $DIR/broker.pub"
    echo "key = $DIR/admin.key"
  } >"$DIR/dockmeshctl.conf"
}

# broker_port I: broker I's XSUB port (XPUB +1, ROUTER +2). Broker 1 keeps the base port.
broker_port() { echo $((BASE_PORT + 3 * ($1 - 1))); }

# broker_name I: the pid/log name of broker I ("broker" for the first, as with one broker).
broker_name() { if (($1 == 1)); then echo broker; else echo "broker$1"; fi; }

# --broker HOST:PORT for every broker, one word a line: every client connects to all of them.
broker_args() {
  local i
  for ((i = 1; i <= BROKERS; i++)); do printf '%s\n' --broker "$(broker_host "$i"):$(broker_port "$i")"; done
}

# Fails unless every TCP port the mesh needs is free on 127.0.0.1.
check_ports_free() {
  local p
  for p in "$@"; do
    if ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
      die "port $p is already in use on this machine; pick another --base-port"
    fi
  done
}

# metrics_args KIND [I]: --metrics-listen for broker I, the bridge or host I's agent when
# --metrics-port is set (see mesh.sh), one word a line, and the target in DIR/metrics.targets.
metrics_args() {
  [[ -n "$METRICS_PORT" ]] || return 0
  local port job="dockmesh-$1" host=127.0.0.1
  case "$1" in
    broker) port=$((METRICS_PORT + ${2:-1} - 1)); host="$(broker_host "${2:-1}")" ;;
    bridge) port=$((METRICS_PORT + 3)) ;;
    agent) port=$((METRICS_PORT + 3 + $2)) ;;
  esac
  grep -qxF "$job $host:$port" "$DIR/metrics.targets" 2>/dev/null ||
    echo "$job $host:$port" >>"$DIR/metrics.targets"
  printf '%s\n' --metrics-listen "$host:$port"
}

# start_broker [I]: broker I (default 1); with several brokers each has --broker-id I and --etcd.
# The broker of --broker-netns runs in its namespace, on its address (scripts/lib/mesh_netns.sh).
start_broker() {
  need_binary dockmesh-broker
  local i="${1:-1}" name port host ha=() metrics prefix
  name="$(broker_name "$i")"
  port="$(broker_port "$i")"
  host="$(broker_host "$i")"
  ((BROKERS > 1)) && ha=(--broker-id "$i" --etcd "$(etcd_client_urls "$i")" --etcd-lease-ttl 1)
  mkdir -p "$DIR/$name"
  mapfile -t metrics < <(metrics_args broker "$i")
  mapfile -t prefix < <(netns_prefix "$i")
  start_process "$name" "${prefix[@]+"${prefix[@]}"}" "$(bin dockmesh-broker)" --data-dir "$DIR/$name" \
    "${metrics[@]+"${metrics[@]}"}" --server-key "$DIR/broker.key" --authorized-keys "$DIR/authorized_keys" \
    --xsub-endpoint "tcp://$host:$port" \
    --xpub-endpoint "tcp://$host:$((port + 1))" \
    --router-endpoint "tcp://$host:$((port + 2))" "${ha[@]+"${ha[@]}"}" --log-level "$LOG_LEVEL"
}

# labels_for I: the --label arguments for host I, from --label hostI:k=v (or I:k=v).
labels_for() {
  local i="$1" l
  for l in "${LABELS[@]+"${LABELS[@]}"}"; do
    case "$l" in
      "host$i:"*) printf '%s\n' --label "${l#host"$i":}" ;;
      "$i:"*) printf '%s\n' --label "${l#"$i":}" ;;
    esac
  done
}

check_labels() {
  local l
  for l in "${LABELS[@]+"${LABELS[@]}"}"; do
    [[ "$l" =~ ^(host)?([0-9]+):[^=]+=.*$ ]] || die "--label must look like host1:key=value, got '$l'"
    ((BASH_REMATCH[2] >= 1 && BASH_REMATCH[2] <= HOSTS)) || die "--label '$l' names a host outside 1..$HOSTS"
  done
}

start_agents() {
  need_binary dockmesh-agent
  local i labels brokers metrics
  mapfile -t brokers < <(broker_args)
  for ((i = 1; i <= HOSTS; i++)); do
    mapfile -t labels < <(labels_for "$i")
    mapfile -t metrics < <(metrics_args agent "$i")
    local argv=("$(bin dockmesh-agent)" --fqdn "host$i.mesh.test" \
      --docker-socket "$DIR/host$i/docker.sock" "${brokers[@]}" \
      --broker-key "$BROKER_PUB" --key "$DIR/host$i/agent.key" \
      --policy-registry localhost --policy-registry 127.0.0.1 \
      "${labels[@]+"${labels[@]}"}" "${metrics[@]+"${metrics[@]}"}" --log-level "$LOG_LEVEL")
    # Kept (NUL-separated) for `mesh.sh restart-agent`.
    printf '%s\0' "${argv[@]}" >"$DIR/host$i/agent.argv"
    start_process "agent-host$i" "${argv[@]}"
  done
}

# restart-agent --host I: stops host I's agent (SIGTERM: it unregisters) and starts it again with
# the arguments `up` gave it; returns once the directory has it up again.
restart_agent() {
  local i="$1" argv=()
  [[ "$i" =~ ^[1-9][0-9]*$ ]] || die "restart-agent needs --host I (a host number)"
  [[ -r "$DIR/host$i/agent.argv" ]] || die "no $DIR/host$i/agent.argv: was host $i started by this mesh.sh up?"
  HOSTS="$(cat "$DIR/hosts")"
  ((i <= HOSTS)) || die "--host $i: this mesh has $HOSTS host(s)"
  stop_group "agent-host$i"
  mapfile -d '' argv <"$DIR/host$i/agent.argv"
  start_process "agent-host$i" "${argv[@]}"
  wait_hosts_up
  note "agent of host$i.mesh.test restarted (pid $(cat "$DIR/pids/agent-host$i.pid"))"
}

start_bridge() {
  # The web UI and the schemas: the bridge's built-in defaults (its --static-dir/--schemas-dir).
  local port=$((BASE_PORT + 10)) brokers metrics docker_api=() etcd=()
  # With several brokers the bridge keeps its users, tokens and JWT key in their etcd, as a
  # deployment of several bridges would (docs/ha.md).
  ((BROKERS > 1)) && etcd=(--etcd "$(etcd_client_urls)")
  mapfile -t brokers < <(broker_args)
  mapfile -t metrics < <(metrics_args bridge)
  mkdir -p "$DIR/bridge"
  if [[ -n "${DOCKER_API_PORT:-}" ]]; then
    [[ "$DOCKER_API_PORT" =~ ^[0-9]+$ ]] || die "--docker-api-port must be a number"
    docker_api=(--docker-api-listen "127.0.0.1:$DOCKER_API_PORT")
  fi
  start_process bridge "$(bin dockmesh-bridge)" --data-dir "$DIR/bridge" \
    --listen "127.0.0.1:$port" "${brokers[@]}" --broker-key "$BROKER_PUB" \
    --key "$DIR/bridge.key" --admin-password-file "$DIR/admin.password" "${etcd[@]+"${etcd[@]}"}" \
    "${metrics[@]+"${metrics[@]}"}" --log-level "$LOG_LEVEL" "${docker_api[@]+"${docker_api[@]}"}" \
    "${BRIDGE_ARGS[@]+"${BRIDGE_ARGS[@]}"}"
  echo "http://127.0.0.1:$port/" >"$DIR/bridge.url"
  if [[ -n "${DOCKER_API_PORT:-}" ]]; then echo "tcp://127.0.0.1:$DOCKER_API_PORT" >"$DIR/docker.host"; fi
}

# Until `dockmeshctl hosts` lists host1..hostN with status up.
wait_hosts_up() {
  local deadline=$((SECONDS + TIMEOUT)) out="" i
  while :; do
    for ((i = 1; i <= BROKERS; i++)); do check_alive "$(broker_name "$i")"; done
    for ((i = 1; i <= HOSTS; i++)); do check_alive "agent-host$i"; done
    out="$("$(bin dockmeshctl)" --config "$DIR/dockmeshctl.conf" --timeout 2000 hosts 2>&1 || true)"
    if HOSTS="$HOSTS" "$PY" -c '
import json, os, sys
want = {"host%d.mesh.test" % i for i in range(1, int(os.environ["HOSTS"]) + 1)}
try:
    hosts = json.loads(sys.stdin.read()).get("hosts", [])
except ValueError:
    sys.exit(1)
up = {h.get("fqdn") for h in hosts if h.get("status") == "up"}
sys.exit(0 if want <= up else 1)' <<<"$out"; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      echo "mesh.sh: error: not all $HOSTS hosts are up after ${TIMEOUT}s; last 'dockmeshctl hosts' said:" >&2
      echo "$out" | tail -n 20 >&2
      for ((i = 1; i <= HOSTS; i++)); do
        echo "--- $DIR/logs/agent-host$i.log (tail)" >&2; tail -n 10 "$DIR/logs/agent-host$i.log" >&2 || true
      done
      echo "--- $DIR/logs/broker.log (tail)" >&2; tail -n 20 "$DIR/logs/broker.log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

wait_bridge() {
  local deadline=$((SECONDS + TIMEOUT)) code
  while :; do
    check_alive bridge
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(cat "$DIR/bridge.url")" || true)"
    [[ "$code" != "000" && -s "$DIR/admin.password" ]] && return 0
    if ((SECONDS >= deadline)); then
      echo "mesh.sh: error: the bridge did not answer on $(cat "$DIR/bridge.url") (or wrote no $DIR/admin.password) within ${TIMEOUT}s; log tail:" >&2
      tail -n 30 "$DIR/logs/bridge.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
}

start_services() {
  check_labels
  need_binary dockmesh-broker
  need_binary dockmesh-agent
  need_binary dockmeshctl
  make_keys
  write_ctl_config
  local b
  setup_netns
  ((BROKERS > 1)) && start_etcd
  for ((b = 1; b <= BROKERS; b++)); do start_broker "$b"; done
  start_agents
  local with_bridge=0
  if ((NO_BRIDGE == 0)) && [[ -x "$(bin dockmesh-bridge)" ]]; then with_bridge=1; start_bridge; fi
  wait_hosts_up
  ((with_bridge)) && wait_bridge
  return 0
}

print_summary() {
  echo "mesh up in $DIR: $HOSTS host(s), $BROKERS broker(s) from 127.0.0.1:$BASE_PORT"
  ((BROKERS > 1)) && echo "  etcd:        $(etcd_client_urls) (3 members, data in $DIR/etcd<i>)"
  echo "  dockmeshctl: $(bin dockmeshctl) --config $DIR/dockmeshctl.conf hosts"
  [[ -s "$DIR/bridge.url" ]] && echo "  bridge:      $(cat "$DIR/bridge.url") (user admin, password in $DIR/admin.password)"
  echo "  logs:        $DIR/logs/"
  echo "  stop:        $0 down --dir $DIR"
}
